// SPDX-License-Identifier: MPL-2.0
//! `aicoach-gpu-check`: what of the GPU path works on this machine. Reports the CUDA device,
//! runs the CUDA crop kernel against the CPU's `crop_to_tensor_every_tap` (the same filter:
//! every tap from the frame) on a real photo (largest difference and time per crop for both),
//! then says whether TensorRT is available.
//! `benches/gpu.sh` runs it before the pipeline benchmark.
//!
//! Exit status: 0 when the CUDA crops match the CPU's; 1 when nothing could be checked (no CUDA
//! driver or GPU, or an unreadable image); 2 when there is a GPU but the crop kernel could not
//! be set up (NVRTC missing, or a driver too old for its code, say); 3 when the kernel was set
//! up but a crop failed or differs from the CPU's by more than 1e-3.
//! TensorRT's availability does not change it: the last line printed starts with
//! `tensorrt: available` or `tensorrt: unavailable`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use aicoach_inference::backend::cuda_preprocess::{self, CudaPreprocessor, PackedFrame};
use aicoach_inference::models::Layout;
use aicoach_inference::preprocess::{Normalization, crop_to_tensor_every_tap};
use aicoach_vision::geometry::{Point, RotatedRect};
use aicoach_vision::image::PackedFormat;

const USAGE: &str = "usage: aicoach-gpu-check [IMAGE] [--repeat N]";

/// A photo every development machine here has (OpenCV's documentation package).
const DEFAULT_IMAGE: &str = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";

/// Largest difference between GPU and CPU tensors accepted, in normalised model-input units.
const TOLERANCE: f32 = 1e-3;

struct Args {
    image: PathBuf,
    repeat: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { image: PathBuf::from(DEFAULT_IMAGE), repeat: 20 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--repeat" => {
                let value = it.next().ok_or("--repeat needs a value")?;
                args.repeat = value.parse().map_err(|e| format!("--repeat {value}: {e}"))?;
                if args.repeat == 0 {
                    return Err("--repeat must be at least 1".into());
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}\n{USAGE}")),
            _ => args.image = PathBuf::from(arg),
        }
    }
    Ok(args)
}

/// One crop the pipeline makes, on the photo in one of the frame formats it receives.
struct Case {
    name: &'static str,
    format: PackedFormat,
    /// Rows padded to a multiple of this many bytes, as GStreamer pads video frames.
    row_align: usize,
    roi: RotatedRect,
    size: usize,
    layout: Layout,
    norm: Normalization,
}

fn cases(width: u32, height: u32) -> Vec<Case> {
    let (w, h) = (width as f32, height as f32);
    let square = |cx: f32, cy: f32, side: f32, rotation: f32| RotatedRect {
        center: Point::new(cx, cy),
        width: side,
        height: side,
        rotation,
    };
    vec![
        Case {
            name: "letterbox 224, RGB, NHWC [-1, 1] (detector)",
            format: PackedFormat::Rgb,
            row_align: 1,
            roi: RotatedRect::letterbox(width, height),
            size: 224,
            layout: Layout::Nhwc,
            norm: Normalization::SIGNED_UNIT,
        },
        Case {
            name: "rotated crop 256, BGRx, NHWC [0, 1] (landmarks)",
            format: PackedFormat::Bgrx,
            row_align: 64,
            roi: square(0.45 * w, 0.55 * h, 0.6 * h, 0.35),
            size: 256,
            layout: Layout::Nhwc,
            norm: Normalization::UNIT,
        },
        Case {
            name: "shrinking rotated crop 128, xRGB, NCHW BGR mean/std (NanoDet)",
            format: PackedFormat::Xrgb,
            row_align: 16,
            roi: square(0.5 * w, 0.5 * h, 0.9 * w, -0.2),
            size: 128,
            layout: Layout::Nchw,
            norm: Normalization::NANODET,
        },
        Case {
            name: "crop half outside the frame 256, BGR, NHWC [0, 1]",
            format: PackedFormat::Bgr,
            row_align: 4,
            roi: square(0.95 * w, 0.1 * h, 0.5 * h, 2.0),
            size: 256,
            layout: Layout::Nhwc,
            norm: Normalization::UNIT,
        },
    ]
}

/// Tightly packed RGB to `format`, rows padded to `row_align` bytes; returns data and stride.
fn pack(rgb: &[u8], width: u32, height: u32, format: PackedFormat, row_align: usize) -> (Vec<u8>, usize) {
    let bpp = format.bytes_per_pixel();
    let stride = (width as usize * bpp).next_multiple_of(row_align);
    // Alpha and padding bytes set, so that reading them instead of a colour would show.
    let mut data = vec![0xFF; stride * height as usize];
    for (i, px) in rgb.chunks_exact(3).enumerate() {
        let (x, y) = (i % width as usize, i / width as usize);
        let out = &mut data[y * stride + x * bpp..][..bpp];
        for (c, &offset) in format.rgb_offsets().iter().enumerate() {
            out[offset] = px[c];
        }
    }
    (data, stride)
}

/// Milliseconds per call of `f`, over `repeat` calls.
fn time_per_call<T>(repeat: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let started = Instant::now();
    let mut last = f();
    for _ in 1..repeat {
        last = f();
    }
    (started.elapsed().as_secs_f64() * 1e3 / repeat as f64, last)
}

enum Crops {
    Match,
    NotSetUp,
    Failed,
}

fn check_crops(rgb: &[u8], width: u32, height: u32, repeat: usize) -> Crops {
    let mut gpu = match CudaPreprocessor::new() {
        Ok(gpu) => gpu,
        Err(reason) => {
            println!("cuda crops: skipped: {reason}");
            return Crops::NotSetUp;
        }
    };
    let mut worst_overall = 0.0f32;
    for case in cases(width, height) {
        let (data, stride) = pack(rgb, width, height, case.format, case.row_align);
        let frame = PackedFrame { data: &data, width, height, stride, format: case.format };
        let view = frame.view().expect("packed to fit");
        let (cpu_ms, cpu) =
            time_per_call(repeat, || crop_to_tensor_every_tap(&view, &case.roi, case.size, case.layout, &case.norm));
        // The first crop allocates the device buffers; leave it out of the time.
        if let Err(e) = gpu.crop(&frame, &case.roi, case.size, case.layout, &case.norm) {
            println!("cuda crops: FAILED on {}: {e}", case.name);
            return Crops::Failed;
        }
        let (gpu_ms, result) =
            time_per_call(repeat, || gpu.crop(&frame, &case.roi, case.size, case.layout, &case.norm));
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                println!("cuda crops: FAILED on {}: {e}", case.name);
                return Crops::Failed;
            }
        };
        let (g, c) = (result.tensor.as_f32().expect("f32"), cpu.tensor.as_f32().expect("f32"));
        let worst = g.iter().zip(c).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let worst = if g.len() == c.len() && result.tensor.shape == cpu.tensor.shape { worst } else { f32::INFINITY };
        worst_overall = worst_overall.max(worst);
        println!(
            "{}: max |gpu - cpu| {worst:.2e}; per crop cpu {cpu_ms:.3} ms, gpu {gpu_ms:.3} ms \
             (frame upload, kernel, tensor download)",
            case.name
        );
    }
    if worst_overall > TOLERANCE {
        println!("cuda crops: FAILED: the GPU differs from the CPU by {worst_overall:.2e} (> {TOLERANCE:.0e})");
        Crops::Failed
    } else {
        println!("cuda crops: ok (largest difference {worst_overall:.2e} <= {TOLERANCE:.0e})");
        Crops::Match
    }
}

fn tensorrt() -> Result<String, String> {
    #[cfg(feature = "tensorrt")]
    {
        aicoach_inference::backend::tensorrt::probe()
    }
    #[cfg(not(feature = "tensorrt"))]
    {
        Err("this build has no TensorRT support (cargo feature `tensorrt`)".into())
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let device = match cuda_preprocess::probe_device() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("aicoach-gpu-check: no usable CUDA device, nothing checked: {e}");
            return ExitCode::from(1);
        }
    };
    println!("cuda device: {device}");
    match cuda_preprocess::nvrtc_version() {
        Ok((major, minor)) => println!("nvrtc: {major}.{minor}"),
        Err(e) => println!("nvrtc: unavailable: {e}"),
    }

    let image = match image::open(&args.image) {
        Ok(i) => i.to_rgb8(),
        Err(e) => {
            eprintln!("aicoach-gpu-check: cannot read {}: {e}", args.image.display());
            return ExitCode::from(1);
        }
    };
    let (width, height) = image.dimensions();
    println!("image: {} ({width}x{height}), {} crops per timing", args.image.display(), args.repeat);
    let crops = check_crops(image.as_raw(), width, height, args.repeat);

    match tensorrt() {
        Ok(description) => println!("tensorrt: available: {description}"),
        Err(reason) => println!("tensorrt: unavailable: {reason}"),
    }
    ExitCode::from(match crops {
        Crops::Match => 0,
        Crops::NotSetUp => 2,
        Crops::Failed => 3,
    })
}
