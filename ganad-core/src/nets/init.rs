//! Layer constructors with the DCGAN initialisation the paper's code uses: weights N(0, 0.02),
//! BatchNorm scales N(1, 0.02), biases 0.

use tch::nn;

const STD: f64 = 0.02;

/// 4×4 convolution, stride 2, padding 1: halves the spatial size.
pub fn down(p: nn::Path, c_in: i64, c_out: i64) -> nn::Conv2D {
    conv(p, c_in, c_out, 4, 2, 1)
}

pub fn conv(p: nn::Path, c_in: i64, c_out: i64, k: i64, stride: i64, padding: i64) -> nn::Conv2D {
    let cfg = nn::ConvConfig {
        stride,
        padding,
        ws_init: nn::Init::Randn { mean: 0.0, stdev: STD },
        bs_init: nn::Init::Const(0.0),
        ..Default::default()
    };
    nn::conv2d(p, c_in, c_out, k, cfg)
}

/// 4×4 transposed convolution, stride 2, padding 1: doubles the spatial size.
pub fn up(p: nn::Path, c_in: i64, c_out: i64) -> nn::ConvTranspose2D {
    let cfg = nn::ConvTransposeConfig {
        stride: 2,
        padding: 1,
        ws_init: nn::Init::Randn { mean: 0.0, stdev: STD },
        bs_init: nn::Init::Const(0.0),
        ..Default::default()
    };
    nn::conv_transpose2d(p, c_in, c_out, 4, cfg)
}

pub fn batch_norm(p: nn::Path, c: i64) -> nn::BatchNorm {
    let cfg = nn::BatchNormConfig {
        ws_init: nn::Init::Randn { mean: 1.0, stdev: STD },
        bs_init: nn::Init::Const(0.0),
        ..Default::default()
    };
    nn::batch_norm2d(p, c, cfg)
}

/// LeakyReLU with slope 0.2 (tch's `leaky_relu` is fixed at 0.01).
pub fn leaky_relu(x: &tch::Tensor) -> tch::Tensor {
    x.maximum(&(x * 0.2))
}
