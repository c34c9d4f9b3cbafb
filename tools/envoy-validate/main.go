// Command envoy-validate checks Envoy bootstrap files (YAML or JSON) the way Envoy loads them:
// the document is converted to JSON and unmarshalled into envoy.config.bootstrap.v3.Bootstrap
// with strict protojson (unknown fields and unresolvable `typed_config` "@type"s are errors, as
// in Envoy's MessageUtil::loadFromJson), then every protoc-gen-validate rule of the message tree
// is checked with ValidateAll() (Envoy runs the same rules: MessageUtil::validate). PGV's
// generated ValidateAll() stops at google.protobuf.Any fields; Envoy validates an extension's
// config when it unpacks it (MessageUtil::anyConvertAndValidate), so this tool unpacks every Any
// of the tree and runs ValidateAll() on its message too, recursively.
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
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	// The typed_config extensions kantai's bootstraps use: importing a package registers its
	// message types, which is what lets protojson resolve an Any's "@type". Envoy resolves only
	// the extensions compiled into it; an "@type" not listed here is reported as unresolvable.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/round_robin/v3"
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
	var msgs []string
	validateTree(&b, "", &msgs)
	if len(msgs) > 0 {
		return fmt.Errorf("breaks Envoy's validation rules: %s", strings.Join(msgs, "; "))
	}
	return nil
}

type validatorAll interface{ ValidateAll() error }

// validateTree runs m's PGV rules, then those of every message packed in an Any below it.
func validateTree(m proto.Message, at string, msgs *[]string) {
	if v, ok := m.(validatorAll); ok {
		if err := v.ValidateAll(); err != nil {
			var multi interface{ AllErrors() []error }
			if errors.As(err, &multi) {
				for _, e := range multi.AllErrors() {
					*msgs = append(*msgs, at+e.Error())
				}
			} else {
				*msgs = append(*msgs, at+err.Error())
			}
		}
	}
	forEachAny(m.ProtoReflect(), at, func(a *anypb.Any, path string) {
		inner, err := a.UnmarshalNew()
		if err != nil {
			*msgs = append(*msgs, fmt.Sprintf("%s: %v", path, err))
			return
		}
		validateTree(inner, path+" ("+a.GetTypeUrl()+"): ", msgs)
	})
}

// forEachAny calls f for every google.protobuf.Any directly reachable from m (not inside another Any).
func forEachAny(m protoreflect.Message, at string, f func(*anypb.Any, string)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := at + string(fd.Name())
		visit := func(mv protoreflect.Message, path string) {
			if a, ok := mv.Interface().(*anypb.Any); ok {
				f(a, path)
				return
			}
			forEachAny(mv, path+".", f)
		}
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				visit(l.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i))
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				visit(mv.Message(), fmt.Sprintf("%s[%v]", name, k.Interface()))
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			visit(v.Message(), name)
		}
		return true
	})
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
