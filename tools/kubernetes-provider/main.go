// Command pulumi-resource-kubernetes serves the real pulumi-kubernetes provider
// (github.com/pulumi/pulumi-kubernetes/provider/v4) with the schema and Terraform mapping of the
// pinned module version. Same as upstream's cmd/pulumi-resource-kubernetes/main.go; the embedded
// files are generated into the build directory by scripts/engine.sh (never committed): the
// module's schema.json with "version" set (what upstream's generate.go does) and its
// terraform-mapping.json.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
