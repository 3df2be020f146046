# SPDX-License-Identifier: MPL-2.0
# TFJS graph model (model.json + .bin) -> cleaned frozen GraphDef (.pb) for tf2onnx
import sys, tensorflow as tf
import tfjs_graph_converter.api as api
from tfjs_graph_converter.common import CompatMode
from tensorflow.python.framework import op_def_registry
src, dst = sys.argv[1], sys.argv[2]
graph = api.load_graph_model(src, compat_mode=CompatMode.TFLITE)
gd = graph.as_graph_def()
n_removed = 0
for node in gd.node:
    opdef = op_def_registry.get(node.op)
    allowed = {a.name for a in opdef.attr} if opdef else None
    for k in list(node.attr.keys()):
        v = node.attr[k]
        bad = allowed is not None and k not in allowed and not k.startswith('_output_shapes')
        empty_list = v.WhichOneof('value') == 'list' and len(v.list.ListFields()) == 0
        if k.startswith('_input_shapes') or bad or (empty_list and allowed is not None and k not in {a.name for a in opdef.attr if a.type.startswith('list')}):
            del node.attr[k]; n_removed += 1
        elif empty_list:
            # empty list attr allowed by opdef (e.g. explicit_paddings): drop, default applies
            del node.attr[k]; n_removed += 1
ins = [n.name for n in gd.node if n.op == 'Placeholder']
print('inputs', ins, 'removed attrs', n_removed)
with open(dst, 'wb') as f: f.write(gd.SerializeToString())
