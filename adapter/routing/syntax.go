package routing

import (
	"errors"
	"strings"

	goccy "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// syntaxProblem locates a YAML syntax error for the operator. yaml.v3,
// which decodes the mappings, reports a syntax error at the line where the
// enclosing block or flow collection began, counted from zero (a bad
// indent on line 19 of a rules list reads "line 8"). goccy/go-yaml's
// parser (already in the module graph through gin) reports the line and
// column of the token it stumbled on, so the file is parsed again with it
// for the position and its message. Should it find no error (the two
// parsers disagree), yaml.v3's own words are kept.
func syntaxProblem(file string, raw []byte, v3msg string) problem {
	_, err := parser.ParseBytes(raw, 0)
	var located goccy.Error
	if !errors.As(err, &located) || located.GetToken() == nil || located.GetToken().Position == nil {
		return yamlProblem(file, v3msg)
	}
	pos := located.GetToken().Position
	msg, _, _ := strings.Cut(located.GetMessage(), "\n")
	return problem{file: file, line: pos.Line, col: pos.Column, msg: "YAML syntax: " + msg}
}
