package protocol

import (
	"bytes"
	"encoding/json"
	"reflect"
	"unicode/utf8"
)

// clientFrames maps each frame type a client may send to its Go type.
var clientFrames = map[string]reflect.Type{}

// RegisterClientFrame makes Decode accept frames of f's type.
func RegisterClientFrame(f Frame) {
	clientFrames[f.FrameType()] = reflect.TypeOf(f)
}

func init() {
	for _, f := range []Frame{Hello{}, Join{}, Leave{}, Send{}, Typing{}, CreateRoom{}} {
		RegisterClientFrame(f)
	}
}

// Decode parses one client frame. It refuses invalid UTF-8, anything but a
// JSON object, unknown types and fields of the wrong type, each with a
// *Problem carrying a stable code. Unknown fields are ignored so that newer
// clients can talk to older hosts. The result is a value (Hello, not *Hello).
func Decode(data []byte) (Frame, error) {
	if !utf8.Valid(data) {
		return nil, Errorf(CodeBadFrame, "the frame is not valid UTF-8")
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, Errorf(CodeBadFrame, "a frame must be a JSON object")
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return nil, Errorf(CodeBadFrame, "the frame is not valid JSON")
	}
	if head.Type == "" {
		return nil, Errorf(CodeBadFrame, "the frame has no type")
	}
	t, ok := clientFrames[head.Type]
	if !ok {
		return nil, Errorf(CodeUnknownType, "unknown frame type %s", quoteShort(head.Type))
	}
	p := reflect.New(t)
	if err := json.Unmarshal(trimmed, p.Interface()); err != nil {
		return nil, Errorf(CodeBadFrame, "a field of the %s frame has the wrong type", head.Type)
	}
	return p.Elem().Interface().(Frame), nil
}

// Encode marshals a frame, setting its "type" field and turning nil slices
// into empty JSON arrays, so clients never see null where a list belongs.
func Encode(f Frame) ([]byte, error) {
	v := reflect.New(reflect.TypeOf(f)).Elem()
	v.Set(reflect.ValueOf(f))
	if tf := v.FieldByName("Type"); tf.IsValid() && tf.Kind() == reflect.String {
		tf.SetString(f.FrameType())
	}
	for i := 0; i < v.NumField(); i++ {
		if fv := v.Field(i); fv.Kind() == reflect.Slice && fv.IsNil() && v.Type().Field(i).Tag.Get("json") != "" {
			if tag := v.Type().Field(i).Tag.Get("json"); !bytes.Contains([]byte(tag), []byte("omitempty")) {
				fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
			}
		}
	}
	return json.Marshal(v.Interface())
}

// MustEncode is Encode for frames built by the server, which always marshal.
func MustEncode(f Frame) []byte {
	b, err := Encode(f)
	if err != nil {
		panic("protocol: encode " + f.FrameType() + ": " + err.Error())
	}
	return b
}

func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
