// SPDX-License-Identifier: MPL-2.0
//! Backend-neutral tensors: a shape and a flat row-major buffer of f32 or i32.

use crate::error::{EngineError, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    I32(Vec<i32>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    F32,
    I32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// Name, element type and shape of a model input or output, as a backend reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub element_type: ElementType,
    pub shape: Vec<usize>,
}

impl Tensor {
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Result<Self> {
        Self::check_len(&shape, data.len())?;
        Ok(Self { shape, data: TensorData::F32(data) })
    }

    pub fn i32(shape: Vec<usize>, data: Vec<i32>) -> Result<Self> {
        Self::check_len(&shape, data.len())?;
        Ok(Self { shape, data: TensorData::I32(data) })
    }

    fn check_len(shape: &[usize], len: usize) -> Result<()> {
        let expected: usize = shape.iter().product();
        if expected != len {
            return Err(EngineError::Tensor {
                name: String::new(),
                reason: format!("shape {shape:?} needs {expected} values, got {len}"),
            });
        }
        Ok(())
    }

    pub fn element_type(&self) -> ElementType {
        match self.data {
            TensorData::F32(_) => ElementType::F32,
            TensorData::I32(_) => ElementType::I32,
        }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            TensorData::F32(v) => v.len(),
            TensorData::I32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f32 to change in place; fails for integer tensors.
    pub fn as_f32_mut(&mut self) -> Result<&mut [f32]> {
        match &mut self.data {
            TensorData::F32(v) => Ok(v),
            TensorData::I32(_) => {
                Err(EngineError::Tensor { name: String::new(), reason: "expected f32 values, got i32".into() })
            }
        }
    }

    /// The values as f32; fails for integer tensors (model outputs we decode are all f32).
    pub fn as_f32(&self) -> Result<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Ok(v),
            TensorData::I32(_) => {
                Err(EngineError::Tensor { name: String::new(), reason: "expected f32 values, got i32".into() })
            }
        }
    }
}

/// Outputs of one run, looked up by name.
#[derive(Debug, Clone, Default)]
pub struct Outputs(pub Vec<(String, Tensor)>);

impl Outputs {
    pub fn get(&self, name: &str) -> Result<&Tensor> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, t)| t).ok_or_else(|| EngineError::Tensor {
            name: name.to_string(),
            reason: format!(
                "not among the outputs ({})",
                self.0.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// An f32 output whose element count must be `expected_len`, so a model with another
    /// output layout fails loudly instead of being decoded as garbage.
    pub fn f32_exact(&self, name: &str, expected_len: usize) -> Result<&[f32]> {
        let t = self.get(name)?;
        let v = t.as_f32().map_err(|e| rename(e, name))?;
        if v.len() != expected_len {
            return Err(EngineError::Tensor {
                name: name.into(),
                reason: format!("expected {expected_len} values, got {} (shape {:?})", v.len(), t.shape),
            });
        }
        Ok(v)
    }
}

fn rename(e: EngineError, name: &str) -> EngineError {
    match e {
        EngineError::Tensor { reason, .. } => EngineError::Tensor { name: name.into(), reason },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_must_match_length() {
        assert!(Tensor::f32(vec![1, 2, 3], vec![0.0; 6]).is_ok());
        assert!(Tensor::f32(vec![1, 2, 3], vec![0.0; 5]).is_err());
    }

    #[test]
    fn outputs_by_name_and_length() {
        let out = Outputs(vec![("a".into(), Tensor::f32(vec![2], vec![1.0, 2.0]).unwrap())]);
        assert_eq!(out.f32_exact("a", 2).unwrap(), &[1.0, 2.0]);
        assert!(out.f32_exact("a", 3).is_err());
        let err = out.get("b").unwrap_err().to_string();
        assert!(err.contains("'b'") && err.contains("a"), "{err}");
    }
}
