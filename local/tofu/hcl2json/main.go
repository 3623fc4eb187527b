// Command hcl2json prints HCL native-syntax files (Terraform/OpenTofu .tf
// files) as one JSON document, for tests that check what infra/ declares.
//
// It parses with OpenTofu's own HCL (this module replaces hashicorp/hcl/v2
// with OpenTofu's fork, exactly as OpenTofu's go.mod does), so it accepts
// precisely what `tofu` accepts.
//
// Usage: hcl2json FILE...
//
// Output: {"files": {"<path as given>": BODY, ...}}. A BODY is an object in
// the shape of Terraform's JSON syntax: every attribute by name, every block
// under its type and then each of its labels, as a list of BODYs (a type or
// label may repeat). An attribute whose expression is a constant is given as
// its JSON value; any other expression is given as the string "${SOURCE}",
// SOURCE being its exact source text, so that a consumer can evaluate it.
// Every block BODY also has "@range": {"line", "start", "end"}, the block's
// 1-based first line and its byte offsets in the file, so a consumer can
// quote the block or point at it in a message.
//
// A syntax error in any file is printed to stderr and the exit code is 1.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hcl2json FILE...")
		os.Exit(2)
	}
	files := map[string]any{}
	failed := false
	for _, path := range os.Args[1:] {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "hcl2json: %v\n", err)
			os.Exit(1)
		}
		file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		if diags.HasErrors() {
			for _, d := range diags {
				fmt.Fprintf(os.Stderr, "hcl2json: %s\n", d.Error())
			}
			failed = true
			continue
		}
		files[path] = convertBody(file.Body.(*hclsyntax.Body), src)
	}
	if failed {
		os.Exit(1)
	}
	out, err := json.MarshalIndent(map[string]any{"files": files}, "", " ")
	if err != nil {
		fmt.Fprintf(os.Stderr, "hcl2json: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(out, '\n'))
}

func convertBody(body *hclsyntax.Body, src []byte) map[string]any {
	out := map[string]any{}
	for name, attr := range body.Attributes {
		out[name] = convertExpr(attr.Expr, src)
	}
	for _, block := range body.Blocks {
		converted := convertBody(block.Body, src)
		r := block.Range()
		converted["@range"] = map[string]int{"line": r.Start.Line, "start": r.Start.Byte, "end": r.End.Byte}
		// Nest under the type, then each label: resource.TYPE.NAME = [BODY].
		parent := out
		keys := append([]string{block.Type}, block.Labels...)
		for _, key := range keys[:len(keys)-1] {
			next, ok := parent[key].(map[string]any)
			if !ok {
				next = map[string]any{}
				parent[key] = next
			}
			parent = next
		}
		last := keys[len(keys)-1]
		list, _ := parent[last].([]any)
		parent[last] = append(list, converted)
	}
	return out
}

func convertExpr(expr hclsyntax.Expression, src []byte) any {
	// With no evaluation context, any variable or function call is an error,
	// so a value here is a constant.
	if val, diags := expr.Value(nil); !diags.HasErrors() && val.IsWhollyKnown() {
		if raw, err := (ctyjson.SimpleJSONValue{Value: val}).MarshalJSON(); err == nil {
			return json.RawMessage(raw)
		}
	}
	r := expr.Range()
	return "${" + string(src[r.Start.Byte:r.End.Byte]) + "}"
}
