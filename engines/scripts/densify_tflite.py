# SPDX-License-Identifier: MPL-2.0
# Replace DENSIFY ops in a .tflite by constant dense buffers (computed with the TFLite interpreter, no XNNPACK)
import sys, numpy as np, tensorflow as tf
from tensorflow.lite.tools import flatbuffer_utils as fu
from tensorflow.lite.python import schema_py_generated as sch
src, dst = sys.argv[1], sys.argv[2]
interp = tf.lite.Interpreter(model_path=src,
    experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    experimental_preserve_all_tensors=True)
interp.allocate_tensors()
inp = interp.get_input_details()[0]
interp.set_tensor(inp['index'], np.zeros(inp['shape'], np.float32))
interp.invoke()
m = fu.read_model(src)
g = m.subgraphs[0]
dens_idx = [i for i, oc in enumerate(m.operatorCodes) if max(oc.builtinCode, oc.deprecatedBuiltinCode) == sch.BuiltinOperator.DENSIFY]
keep = []
n = 0
for op in g.operators:
    if op.opcodeIndex in dens_idx:
        out_t = op.outputs[0]
        dense = interp.get_tensor(out_t)
        t = g.tensors[out_t]
        buf = sch.BufferT(); buf.data = np.frombuffer(dense.tobytes(), np.uint8)
        m.buffers.append(buf); t.buffer = len(m.buffers) - 1
        st = g.tensors[op.inputs[0]]
        st.sparsity = None
        nbytes = len(m.buffers[st.buffer].data) if m.buffers[st.buffer].data is not None else 0
        st.shape = np.array([nbytes // 2], np.int32); st.shapeSignature = None
        n += 1
    else:
        keep.append(op)
g.operators = keep
fu.write_model(m, dst)
print("densified", n, "ops ->", dst)
