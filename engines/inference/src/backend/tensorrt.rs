// SPDX-License-Identifier: MPL-2.0
//! TensorRT through `trtx`, with device buffers from `cudarc`.
//!
//! Nothing NVIDIA is linked: the CUDA driver (`libcuda.so`), TensorRT (`libnvinfer.so`) and its
//! ONNX parser (`libnvonnxparser.so`) are opened when a model is loaded, so a build with this
//! feature still runs, and falls back to another backend, on machines without them.
//!
//! TensorRT's C++ interfaces are only compatible within one major version, and `trtx` is
//! compiled against the TensorRT headers it bundles (11.4). The library found at run time must
//! therefore have the same major version; that is checked before anything calls into it. Set
//! `AICOACH_TENSORRT_LIB` to its path when it is not on the loader path as `libnvinfer.so.11`
//! or `libnvinfer.so`.
//!
//! Turning an ONNX graph into a TensorRT engine takes minutes, so engines are cached on disk
//! per graph, GPU and TensorRT version (see [`cache_dir`]).

use std::ffi::{CStr, OsStr, OsString, c_void};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use cudarc::driver::{CudaContext, CudaSlice, CudaStream, DevicePtrMut};
use tract_onnx::pb::{self, tensor_shape_proto::dimension, type_proto};
use trtx::{
    Builder, CudaEngine, DataType, ExecutionContext, Logger, MemoryPoolType, OnnxParser, Runtime, TensorIOMode,
};

use super::{Backend, LoadRequest};
use crate::error::{EngineError, Result};
use crate::models::sha256_hex;
use crate::onnx_graph;
use crate::tensor::{Outputs, Tensor, TensorData, TensorInfo};

const NAME: &str = "tensorrt";

/// Environment variable naming the TensorRT library (`libnvinfer.so.11`, say) to load.
pub const TRT_LIB_ENV: &str = "AICOACH_TENSORRT_LIB";
/// Environment variable naming the TensorRT ONNX parser library; by default it is looked for
/// next to an explicit [`TRT_LIB_ENV`], then on the loader path.
pub const TRT_ONNXPARSER_LIB_ENV: &str = "AICOACH_TENSORRT_ONNXPARSER_LIB";
/// Environment variable naming the engine cache folder.
pub const CACHE_ENV: &str = "AICOACH_TRT_CACHE";

/// Scratch memory the builder may use per layer. The models are small; the default (all of the
/// GPU) would let one engine build crowd out the other elements sharing the GPU.
const WORKSPACE_BYTES: usize = 1 << 30;

/// Bumped when the way engines are built changes, so older cached engines are not reused.
const CACHE_FORMAT: &str = "aicoach-tensorrt-engine-1";

/// Whether a GPU and a compatible TensorRT are usable here: a description of both, or why not.
pub fn probe() -> std::result::Result<String, String> {
    let gpu = Gpu::open()?;
    let trt = tensorrt()?;
    Ok(format!("{gpu}, TensorRT {} ({})", version_string(trt.version), trt.library.display()))
}

/// Where built engines are kept: `$AICOACH_TRT_CACHE`, else `$XDG_CACHE_HOME/aicoach/tensorrt`,
/// else `~/.cache/aicoach/tensorrt`; `None` when none of these is set.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var(CACHE_ENV)
        .or_else(|| var("XDG_CACHE_HOME").filter(|p| p.is_absolute()).map(|p| p.join("aicoach/tensorrt")))
        .or_else(|| var("HOME").map(|p| p.join(".cache/aicoach/tensorrt")))
}

/// The CUDA device everything runs on (the first one), and what identifies it in cache keys.
struct Gpu {
    ctx: Arc<CudaContext>,
    name: String,
    compute_capability: (i32, i32),
}

impl Gpu {
    fn open() -> std::result::Result<Gpu, String> {
        // cudarc panics when it cannot find the driver library, so look for it first.
        // SAFETY: this only tries to dlopen the CUDA driver library under its usual names.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err("the CUDA driver library (libcuda.so, part of the NVIDIA driver) was not found: \
                        no NVIDIA GPU driver is installed here"
                .into());
        }
        let ctx = CudaContext::new(0).map_err(|e| format!("CUDA found no usable GPU: {e}"))?;
        let name = ctx.name().map_err(|e| format!("cannot query the CUDA device: {e}"))?;
        let compute_capability = ctx.compute_capability().map_err(|e| format!("cannot query the CUDA device: {e}"))?;
        Ok(Gpu { ctx, name, compute_capability })
    }
}

impl std::fmt::Display for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (major, minor) = self.compute_capability;
        write!(f, "{} (CUDA compute capability {major}.{minor})", self.name)
    }
}

/// The loaded TensorRT library and the logger every TensorRT object of the process reports to.
/// Both live for the rest of the process, which lets runtimes and engines borrow the logger for
/// `'static` and so be kept in a backend.
struct TensorRt {
    logger: Logger,
    /// `getInferLibVersion()` of the library: major * 10000 + minor * 100 + patch.
    version: i32,
    library: PathBuf,
}

/// The version of the TensorRT API `trtx` was compiled against, encoded like `version`.
fn api_version() -> i32 {
    // SAFETY: returns a constant compiled into trtx-sys.
    unsafe { trtx::trtx_sys::get_tensorrt_version() as i32 }
}

fn version_string(v: i32) -> String {
    format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100)
}

/// Loads TensorRT once per process; a failure is remembered too, like ONNX Runtime's.
fn tensorrt() -> std::result::Result<&'static TensorRt, String> {
    static LOADED: OnceLock<std::result::Result<TensorRt, String>> = OnceLock::new();
    LOADED.get_or_init(load_tensorrt).as_ref().map_err(Clone::clone)
}

fn load_tensorrt() -> std::result::Result<TensorRt, String> {
    let major = api_version() / 10000;
    let library =
        load_first(&library_candidates(TRT_LIB_ENV, "libnvinfer"), |lib| trtx::dynamically_load_tensorrt(Some(lib)))
            .map_err(|tried| format!("cannot load TensorRT {major} ({tried}); install it or set {TRT_LIB_ENV}"))?;
    // Calling a library of another major version through these headers would be undefined
    // behaviour (the C++ vtables differ), so check before the first call into it.
    let version = loaded_library_version(library.as_os_str(), c"getInferLibVersion")
        .ok_or_else(|| format!("{} does not tell its TensorRT version", library.display()))?;
    if version / 10000 != major {
        return Err(format!(
            "{} is TensorRT {}, but this build uses the TensorRT {major} API (headers {}); \
             install TensorRT {major} and point {TRT_LIB_ENV} at its libnvinfer",
            library.display(),
            version_string(version),
            version_string(api_version()),
        ));
    }
    if version < api_version() {
        log::warn!(
            "{} is TensorRT {}, older than the {} API this build uses; upgrade if loading fails",
            library.display(),
            version_string(version),
            version_string(api_version())
        );
    }
    let logger = Logger::new(LogToLogCrate).map_err(|e| format!("cannot create the TensorRT logger: {e}"))?;
    Ok(TensorRt { logger, version, library: library.into() })
}

/// Loads the ONNX parser library, which is only needed when an engine has to be built.
fn load_onnx_parser() -> std::result::Result<(), String> {
    static LOADED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let library = load_first(&parser_candidates(), |lib| trtx::dynamically_load_tensorrt_onnxparser(Some(lib)))
                .map_err(|tried| {
                    format!("cannot load TensorRT's ONNX parser ({tried}); install it or set {TRT_ONNXPARSER_LIB_ENV}")
                })?;
            log::debug!("loaded the TensorRT ONNX parser from {}", library.display());
            Ok(())
        })
        .clone()
}

/// `$env` if set, else `<stem>.so.<major>` then `<stem>.so`: distribution packages and NVIDIA's
/// wheels ship only the versioned name unless the development package is installed.
fn library_candidates(env: &str, stem: &str) -> Vec<OsString> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return vec![path];
    }
    let major = api_version() / 10000;
    vec![format!("{stem}.so.{major}").into(), format!("{stem}.so").into()]
}

fn parser_candidates() -> Vec<OsString> {
    let mut candidates = Vec::new();
    // Next to an explicitly chosen libnvinfer: both come from the same TensorRT package.
    if std::env::var_os(TRT_ONNXPARSER_LIB_ENV).is_none_or(|p| p.is_empty())
        && let Some(lib) = std::env::var_os(TRT_LIB_ENV).filter(|p| !p.is_empty()).map(PathBuf::from)
        && let Some(name) = lib.file_name().and_then(OsStr::to_str)
        && name.starts_with("libnvinfer")
    {
        candidates.push(lib.with_file_name(name.replacen("libnvinfer", "libnvonnxparser", 1)).into());
    }
    candidates.extend(library_candidates(TRT_ONNXPARSER_LIB_ENV, "libnvonnxparser"));
    candidates
}

/// Tries each candidate in turn; returns the one that loaded, or every failure.
fn load_first(
    candidates: &[OsString],
    load: impl Fn(&OsStr) -> trtx::Result<()>,
) -> std::result::Result<OsString, String> {
    let mut failures = Vec::new();
    for candidate in candidates {
        match load(candidate) {
            Ok(()) => return Ok(candidate.clone()),
            // trtx's message says only "dlopen failed"; the loader's own, which names the file
            // and what is missing, is the innermost error of the chain.
            Err(e) => match std::iter::successors(std::error::Error::source(&e), |e| e.source()).last() {
                Some(cause) => failures.push(cause.to_string()),
                None => failures.push(format!("{}: {e}", candidate.display())),
            },
        }
    }
    Err(failures.join("; "))
}

/// Calls the `int32_t f(void)` version function `symbol` of a library trtx has already loaded.
/// trtx keeps its library handle private, so this asks the dynamic loader for the same library
/// again (RTLD_NOLOAD: never loads anything new).
#[cfg(target_os = "linux")]
fn loaded_library_version(library: &OsStr, symbol: &CStr) -> Option<i32> {
    use std::ffi::{CString, c_char, c_int};
    use std::os::unix::ffi::OsStrExt;
    unsafe extern "C" {
        fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
        fn dlclose(handle: *mut c_void) -> c_int;
    }
    const RTLD_NOW: c_int = 2;
    const RTLD_NOLOAD: c_int = 4;
    let library = CString::new(library.as_bytes()).ok()?;
    // SAFETY: the handle is only used while open, and the symbol is TensorRT's documented
    // `extern "C" int32_t getInferLibVersion() noexcept`.
    unsafe {
        let handle = dlopen(library.as_ptr(), RTLD_NOW | RTLD_NOLOAD);
        if handle.is_null() {
            return None;
        }
        let function = dlsym(handle, symbol.as_ptr());
        let version = (!function.is_null()).then(|| {
            let function: unsafe extern "C" fn() -> i32 = std::mem::transmute(function);
            function()
        });
        dlclose(handle);
        version
    }
}

#[cfg(not(target_os = "linux"))]
fn loaded_library_version(_library: &OsStr, _symbol: &CStr) -> Option<i32> {
    None
}

/// Forwards TensorRT's messages to the `log` crate. Its informational messages (memory use of
/// every step) go to debug so that a normal run stays quiet.
struct LogToLogCrate;

impl trtx::LogHandler for LogToLogCrate {
    fn log(&self, severity: trtx::Severity, message: &str) {
        use trtx::Severity::*;
        match severity {
            InternalError | Error => log::error!("TensorRT: {message}"),
            Warning => log::warn!("TensorRT: {message}"),
            Info => log::debug!("TensorRT: {message}"),
            Verbose => log::trace!("TensorRT: {message}"),
        }
    }
}

/// One engine input or output and the device memory bound to it.
struct Binding {
    name: String,
    shape: Vec<usize>,
    buffer: CudaSlice<f32>,
}

pub struct TensorRtBackend {
    // Fields drop in order: TensorRT needs the context gone before its engine, and the engine
    // before its runtime; the buffers the context points into go after all three. The engine
    // and runtime are only kept alive for the context.
    context: ExecutionContext<'static>,
    _engine: CudaEngine<'static>,
    _runtime: Runtime<'static>,
    inputs: Vec<Binding>,
    outputs: Vec<Binding>,
    stream: Arc<CudaStream>,
    gpu: Gpu,
    model: String,
}

// SAFETY: TensorRT's engine and execution context may be used from any thread as long as calls
// on one context do not overlap; `run` takes `&mut self`, so they cannot. The context's `Rc`
// runtime config (the reason trtx's types are not `Send`) is `None` for contexts made by
// `create_execution_context` and is never shared. The CUDA context is made current on whichever
// thread runs or drops the backend.
unsafe impl Send for TensorRtBackend {}

impl TensorRtBackend {
    pub fn load(req: &LoadRequest) -> Result<Self> {
        let unavailable = |reason| EngineError::BackendUnavailable { backend: NAME, reason };
        let gpu = Gpu::open().map_err(unavailable)?;
        let trt = tensorrt().map_err(unavailable)?;
        let err = |what: &str, e: &dyn std::fmt::Display| req.backend_error(NAME, format!("{what}: {e}"));

        let stream = gpu.ctx.new_stream().map_err(|e| err("cannot create a CUDA stream", &e))?;
        let onnx = onnx_graph::encode(&with_static_inputs(req.proto, req.inputs));
        let mut runtime = Runtime::new(&trt.logger).map_err(|e| err("cannot create the TensorRT runtime", &e))?;
        let mut engine = load_engine(req, &mut runtime, trt, &gpu, &onnx)?;
        let mut context =
            engine.create_execution_context().map_err(|e| err("cannot create an execution context", &e))?;

        let bind = |name: &str, mode, expected: Option<&[usize]>| {
            binding(&engine, &stream, name, mode, expected).map_err(|reason| req.backend_error(NAME, reason))
        };
        let mut inputs = Vec::with_capacity(req.inputs.len());
        for info in req.inputs {
            inputs.push(bind(&info.name, TensorIOMode::kINPUT, Some(&info.shape))?);
        }
        let mut outputs = Vec::new();
        for info in onnx_graph::io(req.proto).1 {
            outputs.push(bind(&info.name, TensorIOMode::kOUTPUT, None)?);
        }
        // Every engine tensor needs an address, or enqueue fails on the first frame.
        let io_count = engine.nb_io_tensors().map_err(|e| err("cannot list the engine's tensors", &e))?;
        if usize::try_from(io_count).ok() != Some(inputs.len() + outputs.len()) {
            return Err(req.backend_error(
                NAME,
                format!(
                    "the engine has {io_count} inputs and outputs, the graph declares {}",
                    inputs.len() + outputs.len()
                ),
            ));
        }
        for b in inputs.iter_mut().chain(outputs.iter_mut()) {
            let (ptr, _record) = b.buffer.device_ptr_mut(&stream);
            // SAFETY: the buffer holds exactly the tensor's f32 elements and outlives the context
            // (see the field order of `TensorRtBackend`).
            unsafe { context.set_tensor_address(&b.name, ptr as *mut c_void) }
                .map_err(|e| err("cannot bind a tensor", &e))?;
        }
        Ok(Self {
            context,
            _engine: engine,
            _runtime: runtime,
            inputs,
            outputs,
            stream,
            gpu,
            model: req.file.path.display().to_string(),
        })
    }
}

/// A copy of the graph whose inputs have the fixed shapes the product runs at (batch 1). With no
/// symbolic dimension left, TensorRT builds a static engine: no optimisation profile to define
/// when building and no input shapes to set before every run.
fn with_static_inputs(proto: &pb::ModelProto, inputs: &[TensorInfo]) -> pb::ModelProto {
    let mut proto = proto.clone();
    for input in proto.graph.iter_mut().flat_map(|g| g.input.iter_mut()) {
        let Some(info) = inputs.iter().find(|i| i.name == input.name) else { continue };
        let Some(type_proto::Value::TensorType(t)) = input.r#type.as_mut().and_then(|t| t.value.as_mut()) else {
            continue;
        };
        for (dim, &n) in t.shape.iter_mut().flat_map(|s| s.dim.iter_mut()).zip(&info.shape) {
            dim.value = Some(dimension::Value::DimValue(n as i64));
        }
    }
    proto
}

/// The name of a cached engine: TensorRT engines only load on the GPU model and TensorRT
/// version they were built with, so both are part of it, with the exact graph bytes.
fn cache_key(onnx: &[u8], gpu_name: &str, compute_capability: (i32, i32), trt_version: i32) -> String {
    let fingerprint = format!(
        "{CACHE_FORMAT}\nonnx {}\ngpu {gpu_name}\ncompute {}.{}\ntensorrt {trt_version} api {}\n",
        sha256_hex(onnx),
        compute_capability.0,
        compute_capability.1,
        api_version(),
    );
    sha256_hex(fingerprint.as_bytes())
}

/// Deserializes the cached engine for this graph, building and caching it first if needed.
fn load_engine(
    req: &LoadRequest,
    runtime: &mut Runtime<'static>,
    trt: &'static TensorRt,
    gpu: &Gpu,
    onnx: &[u8],
) -> Result<CudaEngine<'static>> {
    // One build at a time: builds use the whole GPU for minutes, and two elements loading the
    // same model should build it once.
    static BUILDING: Mutex<()> = Mutex::new(());

    let key = cache_key(onnx, &gpu.name, gpu.compute_capability, trt.version);
    let path = cache_dir().map(|dir| dir.join(format!("{}-{key}.engine", req.file.spec.name)));
    if let Some(engine) = path.as_deref().and_then(|p| cached_engine(runtime, p)) {
        return Ok(engine);
    }
    let _building = BUILDING.lock().unwrap_or_else(PoisonError::into_inner);
    // Another thread may have built it while this one waited.
    if let Some(engine) = path.as_deref().and_then(|p| cached_engine(runtime, p)) {
        return Ok(engine);
    }

    log::info!(
        "building a TensorRT engine for {} on {gpu}; this takes a few minutes, once per model and GPU",
        req.file.path.display()
    );
    let started = Instant::now();
    let plan = build_plan(trt, onnx).map_err(|reason| req.backend_error(NAME, reason))?;
    log::info!("built the TensorRT engine for {} in {:.0?}", req.file.spec.name, started.elapsed());
    match &path {
        Some(path) => match write_atomically(path, &plan) {
            Ok(()) => log::info!("cached it as {}", path.display()),
            Err(e) => log::warn!("cannot cache the TensorRT engine as {}: {e}", path.display()),
        },
        None => {
            log::warn!("no cache folder for TensorRT engines (set {CACHE_ENV} or HOME): it will be rebuilt next time")
        }
    }
    runtime
        .deserialize_cuda_engine(&plan)
        .map_err(|e| req.backend_error(NAME, format!("cannot load the engine just built: {e}")))
}

fn cached_engine(runtime: &mut Runtime<'static>, path: &Path) -> Option<CudaEngine<'static>> {
    let plan = std::fs::read(path).ok()?;
    match runtime.deserialize_cuda_engine(&plan) {
        Ok(engine) => {
            log::info!("loaded the cached TensorRT engine {}", path.display());
            Some(engine)
        }
        Err(e) => {
            log::warn!("the cached TensorRT engine {} is unusable ({e}); rebuilding it", path.display());
            None
        }
    }
}

/// Parses the graph and builds a serialized engine (a "plan").
///
/// There is no FP16 switch: TensorRT 11 removed the builder's precision flags (networks are
/// always strongly typed), so an f32 graph runs in f32, with TF32 matrix maths where the GPU
/// has it.
fn build_plan(trt: &'static TensorRt, onnx: &[u8]) -> std::result::Result<Vec<u8>, String> {
    load_onnx_parser()?;
    let mut builder = Builder::new(&trt.logger).map_err(|e| format!("cannot create the TensorRT builder: {e}"))?;
    let network = builder.create_network(0).map_err(|e| format!("cannot create a TensorRT network: {e}"))?;
    let mut parser =
        OnnxParser::new(network, &trt.logger).map_err(|e| format!("cannot create TensorRT's ONNX parser: {e}"))?;
    parser.parse(onnx).map_err(|e| format!("TensorRT's ONNX parser rejected the graph: {e}"))?;
    let mut config = builder.create_config().map_err(|e| format!("cannot create a TensorRT builder config: {e}"))?;
    config.set_memory_pool_limit(MemoryPoolType::kWORKSPACE, WORKSPACE_BYTES);
    let plan = builder
        .build_serialized_network(parser.network_mut(), &mut config)
        .map_err(|e| format!("TensorRT could not build an engine (its log says why): {e}"))?;
    Ok(plan.to_vec())
}

/// Writes to a temporary file and renames it, so that another process never reads a half-written
/// engine.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("engine.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Checks one engine tensor and allocates its device buffer.
fn binding(
    engine: &CudaEngine,
    stream: &Arc<CudaStream>,
    name: &str,
    mode: TensorIOMode,
    expected_shape: Option<&[usize]>,
) -> std::result::Result<Binding, String> {
    let actual_mode = engine.tensor_io_mode(name).map_err(|e| e.to_string())?;
    if actual_mode != mode {
        return Err(format!("the engine has no {mode:?} tensor '{name}' (it is {actual_mode:?})"));
    }
    let data_type = engine.tensor_data_type(name).map_err(|e| e.to_string())?;
    if data_type != DataType::kFLOAT {
        return Err(format!("tensor '{name}' is {data_type:?}; the TensorRT backend handles f32 tensors only"));
    }
    let dims = engine.tensor_shape(name).map_err(|e| e.to_string())?;
    let shape = dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| format!("tensor '{name}' has a dynamic shape {dims:?} in the engine"))?;
    if let Some(expected) = expected_shape
        && expected != shape
    {
        return Err(format!("tensor '{name}' is {shape:?} in the engine but {expected:?} in the graph"));
    }
    let buffer = stream
        .alloc_zeros::<f32>(shape.iter().product())
        .map_err(|e| format!("cannot allocate GPU memory for '{name}': {e}"))?;
    Ok(Binding { name: name.to_owned(), shape, buffer })
}

impl Backend for TensorRtBackend {
    fn run(&mut self, inputs: &[(&str, &Tensor)]) -> Result<Outputs> {
        let err = |what: &str, e: &dyn std::fmt::Display| EngineError::Backend {
            backend: NAME,
            model: self.model.clone(),
            reason: format!("{what}: {e}"),
        };
        // The CUDA context must be current on the calling thread, which may not be the one
        // that loaded the model (GStreamer streaming threads come and go).
        self.gpu.ctx.bind_to_thread().map_err(|e| err("cannot use the GPU", &e))?;
        for b in &mut self.inputs {
            let tensor_err = |reason: String| EngineError::Tensor { name: b.name.clone(), reason };
            let (_, t) = inputs.iter().find(|(n, _)| *n == b.name).ok_or_else(|| tensor_err("input missing".into()))?;
            let TensorData::F32(data) = &t.data else {
                return Err(tensor_err("the TensorRT backend takes f32 inputs only".into()));
            };
            // cudarc asserts on a length mismatch; refuse it here instead.
            if data.len() != b.buffer.len() {
                return Err(tensor_err(format!(
                    "expected {} values ({:?}), got {}",
                    b.buffer.len(),
                    b.shape,
                    data.len()
                )));
            }
            self.stream
                .memcpy_htod(data.as_slice(), &mut b.buffer)
                .map_err(|e| err("cannot copy an input to the GPU", &e))?;
        }
        // SAFETY: every tensor address was set at load time to a buffer of the right size that
        // lives as long as the context, and the stream belongs to the current CUDA context.
        unsafe { self.context.enqueue_v3(self.stream.cu_stream() as *mut c_void) }
            .map_err(|e| err("inference failed", &e))?;
        let mut values = Vec::with_capacity(self.outputs.len());
        for b in &self.outputs {
            values.push(self.stream.clone_dtoh(&b.buffer).map_err(|e| err("cannot copy an output from the GPU", &e))?);
        }
        // The copies are asynchronous: wait for them before handing the data out.
        self.stream.synchronize().map_err(|e| err("inference failed", &e))?;
        let mut outputs = Vec::with_capacity(values.len());
        for (b, data) in self.outputs.iter().zip(values) {
            outputs.push((b.name.clone(), Tensor::f32(b.shape.clone(), data)?));
        }
        Ok(Outputs(outputs))
    }
}

impl Drop for TensorRtBackend {
    fn drop(&mut self) {
        // TensorRT and cudarc free device memory when the fields drop after this; that needs the
        // CUDA context current on the dropping thread.
        if let Err(e) = self.gpu.ctx.bind_to_thread() {
            log::warn!("cannot release the TensorRT engine for {} cleanly: {e}", self.model);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Engine, EngineKind, EngineOptions};
    use crate::models::{ModelFile, ModelId};

    /// On a machine without GPU or TensorRT, loading fails with a reason instead of panicking;
    /// where `probe` finds both, the model loads and runs.
    #[test]
    fn tensorrt_runs_where_probe_says_so_and_fails_cleanly_elsewhere() {
        let file = ModelFile::bundled(ModelId::PoseLandmarkLite);
        let options = EngineOptions::new(EngineKind::TensorRt, 1);
        match probe() {
            Ok(description) => {
                let mut engine = Engine::load(&file, &options).unwrap_or_else(|e| panic!("{description}: {e}"));
                assert_eq!(engine.kind(), EngineKind::TensorRt);
                let input =
                    Tensor::f32(file.spec.input_shape(), vec![0.5; file.spec.input_shape().iter().product()]).unwrap();
                let outputs = engine.run(&[(file.spec.input, &input)]).unwrap();
                for name in file.spec.outputs {
                    let values = outputs.get(name).unwrap().as_f32().unwrap();
                    assert!(!values.is_empty() && values.iter().all(|v| v.is_finite()), "{name}");
                }
            }
            Err(reason) => {
                // SAFETY: only tries to dlopen the CUDA driver library.
                if !unsafe { cudarc::driver::sys::is_culib_present() } {
                    assert!(reason.contains("CUDA"), "{reason}");
                }
                let err = Engine::load(&file, &options).unwrap_err().to_string();
                assert!(err.contains("tensorrt"), "{err}");
            }
        }
    }

    #[test]
    fn cache_key_changes_with_graph_gpu_and_tensorrt_version() {
        let key = cache_key(b"graph", "NVIDIA H100", (9, 0), 110400);
        assert_eq!(key, cache_key(b"graph", "NVIDIA H100", (9, 0), 110400));
        assert_eq!(key.len(), 64);
        for other in [
            cache_key(b"graph2", "NVIDIA H100", (9, 0), 110400),
            cache_key(b"graph", "NVIDIA L4", (9, 0), 110400),
            cache_key(b"graph", "NVIDIA H100", (8, 9), 110400),
            cache_key(b"graph", "NVIDIA H100", (9, 0), 110401),
        ] {
            assert_ne!(key, other);
        }
    }

    #[test]
    fn static_inputs_leave_no_symbolic_dimension() {
        let file = ModelFile::bundled(ModelId::PoseLandmarkLite);
        let proto = onnx_graph::decode(&file.path, &file.read_verified().unwrap()).unwrap();
        let (inputs, _) = onnx_graph::io(&proto);
        let pinned = with_static_inputs(&proto, &inputs);
        for input in &pinned.graph.as_ref().unwrap().input {
            let Some(type_proto::Value::TensorType(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
                continue;
            };
            for dim in &t.shape.as_ref().unwrap().dim {
                assert!(matches!(dim.value, Some(dimension::Value::DimValue(n)) if n > 0), "{}: {dim:?}", input.name);
            }
        }
        assert_eq!(onnx_graph::io(&pinned).0, inputs);
    }
}
