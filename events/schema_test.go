package events

import (
	"encoding/json"
	"slices"
	"testing"
)

// jsonSchema is the part of schema.json the tests inspect.
type jsonSchema struct {
	Schema     string   `json:"$schema"`
	Required   []string `json:"required"`
	Properties struct {
		Type     struct{ Enum []string } `json:"type"`
		Currency struct{ Enum []string } `json:"currency"`
	} `json:"properties"`
	AllOf []struct {
		If struct {
			Properties struct {
				Type struct{ Const string } `json:"type"`
			} `json:"properties"`
		} `json:"if"`
		Then struct {
			Required      []string `json:"required"`
			PropertyNames struct {
				Enum []string `json:"enum"`
			} `json:"propertyNames"`
		} `json:"then"`
	} `json:"allOf"`
}

func loadSchema(t *testing.T) jsonSchema {
	t.Helper()
	var s jsonSchema
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	return s
}

func TestSchemaTypes(t *testing.T) {
	s := loadSchema(t)
	if got, want := s.Schema, "https://json-schema.org/draft/2020-12/schema"; got != want {
		t.Errorf("$schema: got %q, want %q", got, want)
	}
	var want []string
	for _, typ := range Types() {
		want = append(want, string(typ))
	}
	if got := s.Properties.Type.Enum; !slices.Equal(got, want) {
		t.Errorf("type enum: got %v, want %v", got, want)
	}
	if got, want := s.Properties.Currency.Enum, Currencies(); !slices.Equal(got, want) {
		t.Errorf("currency enum: got %v, want %v", got, want)
	}
}

// TestSchemaRules checks that each type's branch matches what Parse does.
func TestSchemaRules(t *testing.T) {
	s := loadSchema(t)
	if got, want := len(s.AllOf), len(Types()); got != want {
		t.Fatalf("allOf branches: got %d, want %d", got, want)
	}
	for i, typ := range Types() {
		b := s.AllOf[i]
		if got, want := b.If.Properties.Type.Const, string(typ); got != want {
			t.Errorf("branch %d: got type %q, want %q", i, got, want)
			continue
		}
		r := ruleFor(typ)
		required := append(slices.Clone(s.Required), b.Then.Required...)
		if got, want := sortedNames(required), names(r.required); !slices.Equal(got, want) {
			t.Errorf("%s required: got %v, want %v", typ, got, want)
		}
		allowed := b.Then.PropertyNames.Enum
		if got, want := sortedNames(allowed), names(r.allowed); !slices.Equal(got, want) {
			t.Errorf("%s allowed: got %v, want %v", typ, got, want)
		}
	}
}

func names(s fieldSet) []string {
	var out []string
	for f := field(0); f < numFields; f++ {
		if s.has(f) {
			out = append(out, f.String())
		}
	}
	return sortedNames(out)
}

func sortedNames(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

func TestSchemaIsCopy(t *testing.T) {
	a := Schema()
	a[0] = 'x'
	if Schema()[0] == 'x' {
		t.Error("Schema returned shared bytes")
	}
}
