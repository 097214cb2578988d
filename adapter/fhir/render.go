package fhir

import (
	"fmt"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"google.golang.org/protobuf/proto"
)

// Renderer marshals resources the adapter builds. It is safe for
// concurrent use.
type Renderer struct {
	m *jsonformat.Marshaller
}

// NewRenderer returns a Renderer producing compact FHIR R4 JSON.
func NewRenderer() (*Renderer, error) {
	m, err := jsonformat.NewMarshaller(false, "", "", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("fhir: new marshaller: %w", err)
	}
	return &Renderer{m: m}, nil
}

func (r *Renderer) marshal(res proto.Message) ([]byte, error) {
	b, err := r.m.MarshalResource(res)
	if err != nil {
		return nil, fmt.Errorf("fhir: marshal %T: %w", res, err)
	}
	return b, nil
}
