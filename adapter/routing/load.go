package routing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// ErrNoMappings is returned when the mappings directory holds no YAML files.
var ErrNoMappings = errors.New("no mapping files (*.yaml) found")

var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// problem is one validation failure located in a file.
type problem struct {
	file string
	line int
	col  int // 0: the line is all that is known
	msg  string
}

func (p problem) Error() string {
	if p.line > 0 && p.col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", p.file, p.line, p.col, p.msg)
	}
	if p.line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.file, p.line, p.msg)
	}
	return fmt.Sprintf("%s: %s", p.file, p.msg)
}

// loadedFile is one parsed file with its YAML node tree kept for line numbers.
type loadedFile struct {
	name string
	doc  fileDoc
	root *yaml.Node
}

// Load reads every *.yaml and *.yml file in fsys (sorted by name), decodes
// each strictly and validates the whole set. label prefixes file names in
// errors (e.g. "mappings"). All problems are reported at once, each naming
// its file and line.
func Load(fsys fs.FS, label string) (*Mappings, error) {
	names, err := yamlFiles(fsys)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: %w", label, ErrNoMappings)
	}
	var files []loadedFile
	var problems []error
	dropped := false
	for _, n := range names {
		f, errs := decodeFile(fsys, n, path.Join(label, n))
		problems = append(problems, errs...)
		if f.root != nil {
			files = append(files, f)
		} else {
			dropped = true
		}
	}
	if len(files) == 0 {
		return nil, errors.Join(problems...)
	}
	// With a file unreadable, checks of the whole set ("no network", "not a
	// service in the directory") would report what is merely in that file.
	b := &builder{m: &Mappings{services: map[string]*adapter.Service{}}, partial: dropped}
	m, err := b.build(files)
	if len(problems) > 0 {
		// Validate what decoded too, so every problem is reported at once.
		return nil, errors.Join(append(problems, err)...)
	}
	return m, err
}

func yamlFiles(fsys fs.FS) ([]string, error) {
	var names []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := fs.Glob(fsys, pat)
		if err != nil {
			return nil, err
		}
		names = append(names, m...)
	}
	slices.Sort(names)
	return names, nil
}

// decodeFile decodes one file strictly. Unknown fields and type mismatches
// are reported per line while the rest of the file still decodes (so its
// other problems are found too); a syntax error, or a key given twice in a
// mapping (yaml.v3 then drops the whole mapping), makes the file unusable
// (f.root stays nil).
func decodeFile(fsys fs.FS, name, label string) (loadedFile, []error) {
	f := loadedFile{name: label}
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return f, []error{fmt.Errorf("%s: %w", label, err)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return f, []error{syntaxProblem(label, raw, strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var errs []error
	if err := dec.Decode(&f.doc); err != nil {
		var te *yaml.TypeError
		switch {
		case errors.Is(err, io.EOF):
			return f, []error{problem{file: label, msg: "file is empty"}}
		case errors.As(err, &te):
			unusable := false
			for _, msg := range te.Errors {
				errs = append(errs, yamlProblem(label, msg))
				unusable = unusable || duplicateKey.MatchString(msg)
			}
			if unusable {
				return f, errs
			}
		default:
			return f, []error{fmt.Errorf("%s: %w", label, err)}
		}
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		errs = append(errs, problem{file: label, msg: "more than one YAML document in the file"})
	}
	f.root = &root
	return f, errs
}

var unknownField = regexp.MustCompile(`^field (\S+) not found in type`)

var duplicateKey = regexp.MustCompile(`^line \d+: mapping key .* already defined at line \d+$`)

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlProblem turns yaml.v3's "line N: msg" into "file:N: msg".
func yamlProblem(file, msg string) problem {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = m[2]
		if f := unknownField.FindStringSubmatch(msg); f != nil {
			msg = fmt.Sprintf("unknown field %q", f[1])
		}
		return problem{file: file, line: n, msg: msg}
	}
	return problem{file: file, msg: msg}
}

// node helpers: find a mapping key's value, or a sequence item.

func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func item(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}
