package tiles

import "google.golang.org/protobuf/encoding/protowire"

// featureCounts returns the number of features of each layer of an MVT
// (layer name → count), reading only the protobuf framing. Malformed input
// gives the counts read so far.
func featureCounts(mvt []byte) map[string]int {
	out := map[string]int{}
	for len(mvt) > 0 {
		num, typ, n := protowire.ConsumeTag(mvt)
		if n < 0 {
			return out
		}
		mvt = mvt[n:]
		if num != 3 || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, mvt); n < 0 {
				return out
			}
			mvt = mvt[n:]
			continue
		}
		layer, n := protowire.ConsumeBytes(mvt)
		if n < 0 {
			return out
		}
		mvt = mvt[n:]
		var name string
		features := 0
		for len(layer) > 0 {
			lnum, ltyp, k := protowire.ConsumeTag(layer)
			if k < 0 {
				break
			}
			layer = layer[k:]
			if lnum == 1 && ltyp == protowire.BytesType {
				v, k := protowire.ConsumeBytes(layer)
				if k < 0 {
					break
				}
				name = string(v)
				layer = layer[k:]
				continue
			}
			if lnum == 2 && ltyp == protowire.BytesType {
				features++
			}
			if k = protowire.ConsumeFieldValue(lnum, ltyp, layer); k < 0 {
				break
			}
			layer = layer[k:]
		}
		out[name] = features
	}
	return out
}
