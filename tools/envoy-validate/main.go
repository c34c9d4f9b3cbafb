// Command envoy-validate checks Envoy bootstrap files (YAML or JSON) the way Envoy loads them:
// the document is converted to JSON and unmarshalled into envoy.config.bootstrap.v3.Bootstrap
// with strict protojson (unknown fields and unresolvable `typed_config` "@type"s are errors, as
// in Envoy's MessageUtil::loadFromJson), then every protoc-gen-validate rule of the message tree
// is checked with ValidateAll() (Envoy runs the same rules: MessageUtil::validate).
//
// It does not check what only a running Envoy knows (that a DNS name resolves, that a port is
// free, cross-references between clusters and routes); components/routing's tests check those.
//
// Usage: envoy-validate FILE...   (exit 0: every file valid; 1: a file is invalid; 2: usage)
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	// The typed_config extensions kantai's bootstraps use: importing a package registers its
	// message types, which is what lets protojson resolve an Any's "@type". Envoy resolves only
	// the extensions compiled into it; an "@type" not listed here is reported as unresolvable.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

func validate(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return fmt.Errorf("not YAML/JSON: %w", err)
	}
	var b bootstrapv3.Bootstrap
	if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(js, &b); err != nil {
		return fmt.Errorf("does not match envoy.config.bootstrap.v3.Bootstrap: %w", err)
	}
	if err := b.ValidateAll(); err != nil {
		var multi interface{ AllErrors() []error }
		if errors.As(err, &multi) {
			msgs := make([]string, 0, len(multi.AllErrors()))
			for _, e := range multi.AllErrors() {
				msgs = append(msgs, e.Error())
			}
			return fmt.Errorf("breaks Envoy's validation rules: %s", strings.Join(msgs, "; "))
		}
		return fmt.Errorf("breaks Envoy's validation rules: %w", err)
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: envoy-validate FILE...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		if err := validate(path); err != nil {
			fmt.Fprintf(os.Stderr, "%s: invalid: %v\n", path, err)
			failed = true
			continue
		}
		fmt.Printf("%s: valid envoy.config.bootstrap.v3.Bootstrap\n", path)
	}
	if failed {
		os.Exit(1)
	}
}
