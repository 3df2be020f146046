// SPDX-License-Identifier: MPL-2.0
//! The catalogue of vendored models: where each file lives, its checksum, and the input and
//! outputs the product reads from it. `models/PROVENANCE.md` says where each file came from.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};
use crate::tensor::ElementType;

/// Environment variable that points at a folder holding the model files (overrides the default).
pub const MODEL_DIR_ENV: &str = "AICOACH_MODEL_DIR";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelId {
    /// MediaPipe BlazePose person detector (SSD, 224x224, 2254 anchors).
    PoseDetector,
    /// BlazePose GHUM landmark model, lite variant (33 keypoints, 256x256 crop).
    PoseLandmarkLite,
    /// BlazePose GHUM landmark model, full variant.
    PoseLandmarkFull,
    /// NanoDet-m (COCO-80, 416x416): a general object detector whose class 0 is "person".
    NanoDet,
    /// SSDLite-MobileNetV2 pedestrian detector (300x300, stretched input, 1917 anchors).
    PedestrianSsd,
    /// MoveNet SinglePose Lightning (COCO-17, 192x192 square crop): finds the body of the
    /// person at the centre of its crop, which places the landmark model's region.
    MoveNetLightning,
    /// MoveNet SinglePose Thunder (COCO-17, 256x256): the same task, more accurate and about
    /// four times slower; looks again where Lightning and the landmark model disagree.
    MoveNetThunder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Batch, height, width, channels.
    Nhwc,
    /// Batch, channels, height, width.
    Nchw,
}

impl Layout {
    /// The shape of one `cols` x `rows` RGB image in this layout.
    pub fn image_shape(self, cols: usize, rows: usize) -> Vec<usize> {
        match self {
            Layout::Nhwc => vec![1, rows, cols, 3],
            Layout::Nchw => vec![1, 3, rows, cols],
        }
    }
}

#[derive(Debug)]
pub struct ModelSpec {
    pub id: ModelId,
    /// Short name users type in properties and command lines.
    pub name: &'static str,
    pub file: &'static str,
    pub sha256: &'static str,
    /// The tensor the product feeds, its element type and layout.
    pub input: &'static str,
    pub input_type: ElementType,
    pub layout: Layout,
    /// Input width and height in pixels (all our models take square inputs).
    pub input_size: usize,
    /// The outputs the product decodes; everything else is pruned from the graph when loading.
    pub outputs: &'static [&'static str],
    /// The file's own input, where `input` is a tensor inside the graph: the nodes between
    /// them only convert pixels (cast, normalise, transpose), which the crop does as it writes
    /// its values; they are cut away when loading.
    pub file_input: Option<FileInput>,
}

/// A model file's declared input, where the product feeds the graph past it.
#[derive(Debug, Clone, Copy)]
pub struct FileInput {
    pub name: &'static str,
    pub element_type: ElementType,
    pub layout: Layout,
}

impl ModelSpec {
    /// The shape of the tensor the product feeds.
    pub fn input_shape(&self) -> Vec<usize> {
        self.input_shape_sized(self.input_size, self.input_size)
    }

    /// The shape of a `cols` x `rows` input in the model's layout.
    pub fn input_shape_sized(&self, cols: usize, rows: usize) -> Vec<usize> {
        self.layout.image_shape(cols, rows)
    }

    /// The file's declared input: name, element type and shape.
    pub fn file_input(&self) -> (&'static str, ElementType, Vec<usize>) {
        match self.file_input {
            Some(f) => (f.name, f.element_type, f.layout.image_shape(self.input_size, self.input_size)),
            None => (self.input, self.input_type, self.input_shape()),
        }
    }
}

/// MoveNet's first convolution's input, in the converted file.
const MOVENET_NORMALISED: &str = "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/Conv1_relu/Relu6/BiasAdd__15:0";

pub static MODELS: &[ModelSpec] = &[
    ModelSpec {
        id: ModelId::PoseDetector,
        name: "blazepose-detector",
        file: "pose_detection.onnx",
        sha256: "cb04cdf110a23034ac2c2ad1f46d5d511631a1ff6160148dfbdc4c210609b512",
        input: "input_1",
        input_type: ElementType::F32,
        layout: Layout::Nhwc,
        input_size: 224,
        outputs: &["Identity", "Identity_1"],
        file_input: None,
    },
    ModelSpec {
        id: ModelId::PoseLandmarkLite,
        name: "lite",
        file: "pose_landmark_lite.onnx",
        sha256: "282d72edfb3aaa4b2822e30aff8b2c0929ee18319cad4a2d9842e8db3ea260c8",
        input: "input_1",
        input_type: ElementType::F32,
        layout: Layout::Nhwc,
        input_size: 256,
        // Landmarks and the pose-presence flag; segmentation, heatmap and world points are pruned.
        outputs: &["Identity", "Identity_1"],
        file_input: None,
    },
    ModelSpec {
        id: ModelId::PoseLandmarkFull,
        name: "full",
        file: "pose_landmark_full.onnx",
        sha256: "95e0d28174aeb6a5b7c63a8ecd56f3073d3a0f35be915f4e59cf547303e6f846",
        input: "input_1",
        input_type: ElementType::F32,
        layout: Layout::Nhwc,
        input_size: 256,
        outputs: &["Identity", "Identity_1"],
        file_input: None,
    },
    ModelSpec {
        id: ModelId::NanoDet,
        name: "nanodet",
        file: "nanodet_m_416.onnx",
        sha256: "4a7e9e42b386a6ba5cde0e5148c1b67ecbbbf020a678bb7bffa22a4b0f8e9ebc",
        input: "input_1:0",
        input_type: ElementType::F32,
        layout: Layout::Nchw,
        input_size: 416,
        outputs: &["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0", "Identity_4:0", "Identity_5:0"],
        file_input: None,
    },
    ModelSpec {
        id: ModelId::PedestrianSsd,
        name: "ssdlite",
        file: "pedestrian_ssdlite_300.onnx",
        sha256: "99af81620d07958b7be48740519e0e1408f8d2dd60113bf0a06ba6c133792099",
        input: "Preprocessor/sub:0",
        input_type: ElementType::F32,
        layout: Layout::Nhwc,
        input_size: 300,
        outputs: &["concat:0", "concat_1:0"],
        file_input: None,
    },
    ModelSpec {
        id: ModelId::MoveNetLightning,
        name: "movenet-lightning",
        file: "movenet_lightning.onnx",
        sha256: "1e74db6b5886edb2abe565a0ce22bb1117a1fc81f7fa49826a51172e546c2d06",
        // Past the file's own conversion of integer pixels: cast, `x * 0.007843018 - 1`,
        // NHWC to NCHW (see `movenet::MODEL_INPUT_SCALE`).
        input: MOVENET_NORMALISED,
        input_type: ElementType::F32,
        layout: Layout::Nchw,
        input_size: 192,
        outputs: &["Identity:0"],
        file_input: Some(FileInput { name: "input:0", element_type: ElementType::I32, layout: Layout::Nhwc }),
    },
    ModelSpec {
        id: ModelId::MoveNetThunder,
        name: "movenet-thunder",
        file: "movenet_thunder.onnx",
        sha256: "dab898eac8bce67cbda073f96ab3149c49eded1be64624294f945bdd8b649e0e",
        // Past the file's own conversion of integer pixels: cast, `x * 0.007843018 - 1`,
        // NHWC to NCHW (see `movenet::MODEL_INPUT_SCALE`).
        input: MOVENET_NORMALISED,
        input_type: ElementType::F32,
        layout: Layout::Nchw,
        input_size: 256,
        outputs: &["Identity:0"],
        file_input: Some(FileInput { name: "input:0", element_type: ElementType::I32, layout: Layout::Nhwc }),
    },
];

impl ModelId {
    pub fn spec(self) -> &'static ModelSpec {
        MODELS.iter().find(|m| m.id == self).expect("every ModelId has a catalogue entry")
    }

    /// Looks a model up by the name users type (`lite`, `full`, `blazepose-detector`, `nanodet`).
    pub fn from_name(name: &str) -> Result<ModelId> {
        MODELS.iter().find(|m| m.name == name).map(|m| m.id).ok_or_else(|| {
            EngineError::UnknownModel(name.to_string(), MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "))
        })
    }
}

/// Where the model files are: `$AICOACH_MODEL_DIR` if set, else the `models/` folder this crate
/// was built from (the repository checkout, or wherever the setup installed it).
pub fn model_dir() -> PathBuf {
    match std::env::var_os(MODEL_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models")),
    }
}

/// A model file on disk with the checksum it must have (when known) and its expected I/O.
#[derive(Debug, Clone)]
pub struct ModelFile {
    pub path: PathBuf,
    pub spec: &'static ModelSpec,
    /// `Some` for vendored files; `None` for a user-supplied path, which is checked by its
    /// inputs and outputs instead.
    pub expected_sha256: Option<&'static str>,
}

impl ModelFile {
    /// The vendored file of `id` in [`model_dir`].
    pub fn bundled(id: ModelId) -> ModelFile {
        let spec = id.spec();
        ModelFile { path: model_dir().join(spec.file), spec, expected_sha256: Some(spec.sha256) }
    }

    /// A file the user chose that must have the inputs and outputs of `id`'s model.
    pub fn custom(id: ModelId, path: impl Into<PathBuf>) -> ModelFile {
        ModelFile { path: path.into(), spec: id.spec(), expected_sha256: None }
    }

    /// Reads the file and checks its sha256 if one is expected.
    pub fn read_verified(&self) -> Result<Vec<u8>> {
        let bytes = std::fs::read(&self.path)
            .map_err(|e| EngineError::ModelFile { path: self.path.clone(), reason: format!("cannot read it: {e}") })?;
        if bytes.is_empty() {
            return Err(EngineError::ModelFile { path: self.path.clone(), reason: "the file is empty".into() });
        }
        if let Some(expected) = self.expected_sha256 {
            verify_sha256(&self.path, &bytes, expected)?;
        }
        Ok(bytes)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn verify_sha256(path: &Path, bytes: &[u8], expected: &str) -> Result<()> {
    let actual = sha256_hex(bytes);
    if actual != expected {
        return Err(EngineError::ChecksumMismatch { path: path.to_path_buf(), actual, expected: expected.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_unknown_names_list_the_choices() {
        assert_eq!(ModelId::from_name("lite").unwrap(), ModelId::PoseLandmarkLite);
        let err = ModelId::from_name("huge").unwrap_err().to_string();
        assert!(err.contains("huge") && err.contains("full") && err.contains("nanodet"), "{err}");
    }

    #[test]
    fn every_vendored_file_matches_its_checksum() {
        for spec in MODELS {
            let file = ModelFile::bundled(spec.id);
            file.read_verified().unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn truncated_and_missing_files_are_named_errors() {
        let dir = std::env::temp_dir().join(format!("aicoach-models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = std::fs::read(ModelFile::bundled(ModelId::PoseLandmarkLite).path).unwrap();
        let truncated = dir.join("pose_landmark_lite.onnx");
        std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
        let file = ModelFile { path: truncated.clone(), ..ModelFile::bundled(ModelId::PoseLandmarkLite) };
        let err = file.read_verified().unwrap_err().to_string();
        assert!(err.contains(truncated.to_str().unwrap()) && err.contains("sha256"), "{err}");

        let missing = ModelFile { path: dir.join("nope.onnx"), ..file };
        let err = missing.read_verified().unwrap_err().to_string();
        assert!(err.contains("nope.onnx") && err.contains("cannot read"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
