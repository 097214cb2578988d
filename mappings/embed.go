// Package mappings embeds the default routing configuration: the service
// directory and routing rules of one synthetic English primary care
// network. Set MAPPINGS_DIR to load a deployment's own files instead; both
// go through the same strict loader in adapter/routing.
package mappings

import "embed"

// Default holds the shipped *.yaml files.
//
//go:embed *.yaml
var Default embed.FS
