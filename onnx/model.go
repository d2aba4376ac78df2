package onnx

import (
	"strconv"

	"github.com/onnxkit/onnxkit/tensor"
)

// Model is a decoded ONNX model: plain Go values, independent of protobuf.
type Model struct {
	IRVersion       int64
	OpsetImports    []OpsetImport
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Metadata        []StringPair // metadata_props, in file order
	Graph           *Graph
	// Functions are the model-local functions (FunctionProto), usable as
	// operators of their domain.
	Functions []*Function

	// trainingInfo holds the model's TrainingInfoProto messages, encoded,
	// so that Encode writes them back unchanged.
	trainingInfo [][]byte
}

// Function is a model-local function: a graph of nodes that a node of the
// function's domain and name invokes like an operator.
type Function struct {
	Name     string
	Domain   string
	Overload string
	Inputs   []string
	Outputs  []string
	// Attributes are the names of the function's attributes without a
	// default; AttributeDefaults are those with one.
	Attributes        []string
	AttributeDefaults []*Attribute
	Nodes             []*Node
	OpsetImports      []OpsetImport
	ValueInfo         []*ValueInfo
	DocString         string
}

// OpsetImport is one entry of a model's opset_import. The default ONNX
// domain is "" (files may also spell it "ai.onnx"; Decode normalizes that).
type OpsetImport struct {
	Domain  string
	Version int64
}

// StringPair is a key/value entry (metadata_props).
type StringPair struct{ Key, Value string }

// Opset returns the imported version of a domain ("" for the default ONNX
// domain) and whether the model imports it.
func (m *Model) Opset(domain string) (int64, bool) {
	for _, o := range m.OpsetImports {
		if o.Domain == domain {
			return o.Version, true
		}
	}
	return 0, false
}

// MetadataValue returns the value stored under key in metadata_props.
func (m *Model) MetadataValue(key string) (string, bool) {
	for _, p := range m.Metadata {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Graph is a computation graph. Nodes are in file order (ONNX requires
// topological order; Check verifies it).
type Graph struct {
	Name         string
	DocString    string
	Nodes        []*Node
	Initializers []*Initializer
	Inputs       []*ValueInfo
	Outputs      []*ValueInfo
	ValueInfo    []*ValueInfo
}

// Initializer is a named constant tensor of a graph.
type Initializer struct {
	Name      string
	DocString string
	Tensor    *tensor.Tensor
}

// ValueInfo describes a graph input, output or intermediate value.
type ValueInfo struct {
	Name      string
	DocString string
	// DType is the element type; tensor.Invalid when the type is absent or
	// not a tensor of a supported element type (see ElemType).
	DType tensor.DType
	// ElemType is the raw TensorProto.DataType code (0 when absent).
	ElemType int32
	// HasShape is false when the shape is unknown (any rank).
	HasShape bool
	Shape    []Dim

	// otherType holds an encoded TypeProto that is not a tensor type
	// (sequence, map, optional, sparse tensor), so that Encode writes it back.
	otherType []byte
}

// Dim is one dimension of a declared shape: a fixed size (Value >= 0), a
// symbolic name (Param != ""), or unknown (Value < 0 and Param == "").
type Dim struct {
	Value int64
	Param string
}

// Node is one operator invocation. An empty input name means an optional
// input that is absent.
type Node struct {
	Name      string
	OpType    string
	Domain    string // "" for the default ONNX domain
	Inputs    []string
	Outputs   []string
	Attrs     []*Attribute
	DocString string
}

// Attr returns the attribute with the given name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttrType is an attribute's type, with the values of AttributeProto.AttributeType.
type AttrType int32

// Attribute types.
const (
	AttrUndefined AttrType = 0
	AttrFloat     AttrType = 1
	AttrInt       AttrType = 2
	AttrString    AttrType = 3
	AttrTensor    AttrType = 4
	AttrGraph     AttrType = 5
	AttrFloats    AttrType = 6
	AttrInts      AttrType = 7
	AttrStrings   AttrType = 8
	AttrTensors   AttrType = 9
	AttrGraphs    AttrType = 10
)

var attrTypeNames = map[AttrType]string{
	AttrUndefined: "undefined", AttrFloat: "float", AttrInt: "int", AttrString: "string",
	AttrTensor: "tensor", AttrGraph: "graph", AttrFloats: "floats", AttrInts: "ints",
	AttrStrings: "strings", AttrTensors: "tensors", AttrGraphs: "graphs",
}

// String returns the type's name as the spec spells it ("float", "ints", ...).
func (t AttrType) String() string {
	if s, ok := attrTypeNames[t]; ok {
		return s
	}
	return "attrtype(" + strconv.Itoa(int(t)) + ")"
}

// Attribute is a node attribute. Only the field matching Type is meaningful.
type Attribute struct {
	Name      string
	Type      AttrType
	DocString string
	// RefAttrName is set for attributes referring to a function's attribute.
	RefAttrName string

	F       float32
	I       int64
	S       []byte
	T       *tensor.Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings [][]byte
	Tensors []*tensor.Tensor
	Graphs  []*Graph
}

// NonTensor reports whether the value's declared type is something other
// than a tensor: a sequence, map, optional or sparse tensor. Such types are
// kept for Encode but not otherwise described.
func (v *ValueInfo) NonTensor() bool { return v.otherType != nil }
