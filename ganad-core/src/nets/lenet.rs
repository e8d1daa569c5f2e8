//! Deep SAD's networks for Fashion-MNIST (Ruff et al., "Deep Semi-Supervised Anomaly Detection",
//! ICLR 2020; their `FashionMNIST_LeNet` and its decoder): a small LeNet-style encoder without
//! bias terms, so that it cannot map every input to the centre by a constant, and the decoder it
//! is pretrained with as an autoencoder. Every BatchNorm is without scale and shift
//! (`affine=False`, ε 1e-4), every activation a LeakyReLU of slope 0.01, and the weights start
//! at PyTorch's defaults (U(±1/√fan_in)).
//!
//! The networks read 28×28 images in [0, 1], as Ruff et al. feed them (`ToTensor()`); the
//! callers pass ganad's padded 32×32 images in [−1, 1], and [`to_unit_28`] maps them back.

use tch::{nn, Kind, Tensor};

/// From ganad's `[B, 1, 32, 32]` in [−1, 1] (2 px of background padding) to the original
/// `[B, 1, 28, 28]` in [0, 1]: pixel / 255, as torchvision's `ToTensor` gives.
pub fn to_unit_28(x: &Tensor) -> Tensor {
    ((x + 1.0) * 0.5).narrow(2, 2, 28).narrow(3, 2, 28)
}

/// U(±1/√fan_in): PyTorch's default (kaiming_uniform with a = √5) for convolutions and linear
/// layers alike; `fan_in` as PyTorch counts it (dim 1 of the weight times the kernel area).
fn pytorch_init(fan_in: i64) -> nn::Init {
    let bound = 1.0 / (fan_in as f64).sqrt();
    nn::Init::Uniform { lo: -bound, up: bound }
}

/// BatchNorm without scale and shift (`affine=False`, ε 1e-4, momentum 0.1), over dim 1.
#[derive(Debug)]
struct PlainNorm {
    running_mean: Tensor,
    running_var: Tensor,
}

impl PlainNorm {
    fn new(p: nn::Path, c: i64) -> Self {
        PlainNorm { running_mean: p.zeros_no_train("running_mean", &[c]), running_var: p.ones_no_train("running_var", &[c]) }
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        Tensor::batch_norm(x, None::<&Tensor>, None::<&Tensor>, Some(&self.running_mean), Some(&self.running_var), train, 0.1, 1e-4, false)
    }
}

/// A bias-free 5×5 convolution (or transposed convolution) with `padding`.
#[derive(Debug)]
struct Conv5 {
    weight: Tensor,
    padding: i64,
    transposed: bool,
}

impl Conv5 {
    fn new(p: nn::Path, c_in: i64, c_out: i64, padding: i64, transposed: bool) -> Self {
        // PyTorch's weight layouts: [out, in, k, k], transposed [in, out, k, k]; dim 1 is the fan-in.
        let shape = if transposed { [c_in, c_out, 5, 5] } else { [c_out, c_in, 5, 5] };
        Conv5 { weight: p.var("weight", &shape, pytorch_init(shape[1] * 25)), padding, transposed }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let pad = [self.padding, self.padding];
        if self.transposed {
            x.conv_transpose2d(&self.weight, None::<Tensor>, [1, 1], pad, [0, 0], 1, [1, 1])
        } else {
            x.conv2d(&self.weight, None::<Tensor>, [1, 1], pad, [1, 1], 1)
        }
    }
}

/// A bias-free linear layer, `[B, c_in] → [B, c_out]`.
#[derive(Debug)]
struct Dense {
    weight: Tensor,
}

impl Dense {
    fn new(p: nn::Path, c_in: i64, c_out: i64) -> Self {
        Dense { weight: p.var("weight", &[c_out, c_in], pytorch_init(c_in)) }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.matmul(&self.weight.tr())
    }
}

/// Nearest-neighbour upsampling by 2 (`F.interpolate(x, scale_factor=2)`).
fn upsample2(x: &Tensor) -> Tensor {
    let s = x.size();
    x.upsample_nearest2d([s[2] * 2, s[3] * 2], None, None)
}

/// φ: `[B, 1, 28, 28]` in [0, 1] → `[B, rep_dim]`.
#[derive(Debug)]
pub struct LeNetEncoder {
    conv1: Conv5,
    bn1: PlainNorm,
    conv2: Conv5,
    bn2: PlainNorm,
    fc1: Dense,
    bn3: PlainNorm,
    fc2: Dense,
    pub rep_dim: i64,
}

impl LeNetEncoder {
    pub fn new(p: &nn::Path, rep_dim: i64) -> Self {
        LeNetEncoder {
            conv1: Conv5::new(p / "conv1", 1, 16, 2, false),
            bn1: PlainNorm::new(p / "bn1", 16),
            conv2: Conv5::new(p / "conv2", 16, 32, 2, false),
            bn2: PlainNorm::new(p / "bn2", 32),
            fc1: Dense::new(p / "fc1", 32 * 7 * 7, 128),
            bn3: PlainNorm::new(p / "bn3", 128),
            fc2: Dense::new(p / "fc2", 128, rep_dim),
            rep_dim,
        }
    }

    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let pool = |t: Tensor| t.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let h = pool(self.bn1.forward(&self.conv1.forward(x), train).leaky_relu()); // [B, 16, 14, 14]
        let h = pool(self.bn2.forward(&self.conv2.forward(&h), train).leaky_relu()); // [B, 32, 7, 7]
        let h = self.bn3.forward(&self.fc1.forward(&h.flatten(1, -1)), train).leaky_relu(); // [B, 128]
        self.fc2.forward(&h) // [B, rep_dim]
    }
}

/// The decoder of the pretraining autoencoder: `[B, rep_dim]` → `[B, 1, 28, 28]` in (0, 1).
#[derive(Debug)]
pub struct LeNetDecoder {
    fc3: Dense,
    bn4: PlainNorm,
    deconv1: Conv5,
    bn5: PlainNorm,
    deconv2: Conv5,
    bn6: PlainNorm,
    deconv3: Conv5,
}

impl LeNetDecoder {
    pub fn new(p: &nn::Path, rep_dim: i64) -> Self {
        LeNetDecoder {
            fc3: Dense::new(p / "fc3", rep_dim, 128),
            bn4: PlainNorm::new(p / "bn4", 128),
            deconv1: Conv5::new(p / "deconv1", 8, 32, 2, true),
            bn5: PlainNorm::new(p / "bn5", 32),
            deconv2: Conv5::new(p / "deconv2", 32, 16, 3, true),
            bn6: PlainNorm::new(p / "bn6", 16),
            deconv3: Conv5::new(p / "deconv3", 16, 1, 2, true),
        }
    }

    pub fn forward(&self, z: &Tensor, train: bool) -> Tensor {
        let h = self.bn4.forward(&self.fc3.forward(z), train).view([-1, 8, 4, 4]);
        let h = self.deconv1.forward(&upsample2(&h.leaky_relu())); // [B, 32, 8, 8]
        let h = self.deconv2.forward(&upsample2(&self.bn5.forward(&h, train).leaky_relu())); // [B, 16, 14, 14]
        let h = self.deconv3.forward(&upsample2(&self.bn6.forward(&h, train).leaky_relu())); // [B, 1, 28, 28]
        h.sigmoid().to_kind(Kind::Float)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn shapes_and_no_bias_anywhere() {
        let vs = nn::VarStore::new(Device::Cpu);
        let (enc, dec) = (LeNetEncoder::new(&(vs.root() / "enc"), 64), LeNetDecoder::new(&(vs.root() / "dec"), 64));
        let x = to_unit_28(&(Tensor::rand([3, 1, 32, 32], (Kind::Float, Device::Cpu)) * 2.0 - 1.0));
        assert_eq!(x.size(), vec![3, 1, 28, 28]);
        let z = enc.forward(&x, true);
        assert_eq!(z.size(), vec![3, 64]);
        let y = dec.forward(&z, true);
        assert_eq!(y.size(), vec![3, 1, 28, 28]);
        assert!(y.min().double_value(&[]) > 0.0 && y.max().double_value(&[]) < 1.0);
        let names: Vec<String> = vs.variables().into_keys().collect();
        assert!(names.iter().all(|n| !n.contains("bias")), "{names:?}");
        // Trainable: the encoder's 2 convolutions and 2 linear layers, the decoder's linear layer and 3 deconvolutions.
        assert_eq!(vs.trainable_variables().len(), 8);
        // PyTorch's default bound for conv1: 1/√(1·25).
        let w = &vs.variables()["enc.conv1.weight"];
        assert!(w.abs().max().double_value(&[]) <= 0.2 + 1e-6);
    }

    #[test]
    fn the_padding_is_undone() {
        let x = Tensor::full([1, 1, 32, 32], -1.0, (Kind::Float, Device::Cpu));
        let _ = x.narrow(2, 2, 1).narrow(3, 2, 1).fill_(1.0);
        let y = to_unit_28(&x);
        assert_eq!(y.double_value(&[0, 0, 0, 0]), 1.0, "pixel 255 of the top-left corner");
        assert_eq!(y.sum(Kind::Float).double_value(&[]), 1.0, "the rest is background 0");
    }
}
