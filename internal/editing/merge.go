package editing

// MergePatch applies an RFC 7396 JSON Merge Patch to target and returns
// the result (target is not modified): a patch that is not an object
// replaces the target; in an object patch a null member removes the
// member, an object member is merged recursively, anything else replaces.
// Values are as produced by encoding/json with UseNumber (map[string]any,
// []any, string, json.Number, bool, nil).
func MergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	out := map[string]any{}
	if ok {
		for k, v := range t {
			out[k] = v
		}
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = MergePatch(out[k], v)
	}
	return out
}
