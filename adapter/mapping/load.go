package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"

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
	msg  string
}

func (p problem) Error() string {
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
	for _, n := range names {
		f, err := decodeFile(fsys, n, path.Join(label, n))
		if err != nil {
			problems = append(problems, err)
			continue
		}
		files = append(files, f)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	b := &builder{m: &Mappings{services: map[string]*adapter.Service{}}}
	return b.build(files)
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

func decodeFile(fsys fs.FS, name, label string) (loadedFile, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return loadedFile{}, fmt.Errorf("%s: %w", label, err)
	}
	f := loadedFile{name: label}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f.doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, problem{file: label, msg: "file is empty"}
		}
		return f, fmt.Errorf("%s: %w", label, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return f, problem{file: label, msg: "more than one YAML document in the file"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return f, fmt.Errorf("%s: %w", label, err)
	}
	f.root = &root
	return f, nil
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
