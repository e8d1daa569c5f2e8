//! The layers the networks are built from, with the initialisation the paper's code uses
//! (weights N(0, 0.02), BatchNorm scales N(1, 0.02), biases 0) or PyTorch's default, and the
//! precision convolutions compute in.
//!
//! With [`Precision::Bf16`] a convolution casts its input and weights to bfloat16 and lays them
//! out channels-last, the form oneDNN runs on AVX-512 BF16 / AMX units; BatchNorm and the
//! activations follow the input's dtype, the weights stay fp32 (so does Adam), and each network
//! casts what it returns back to fp32. This is what `torch.autocast("cpu", torch.bfloat16)` does
//! for convolutions.

pub use crate::system::device::Precision;
use std::cell::RefCell;
use std::collections::HashMap;
use tch::{nn, Kind, Tensor};

const STD: f64 = 0.02;

/// How a layer's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// DCGAN: N(0, 0.02) weights, zero biases (the paper's networks).
    Dcgan,
    /// PyTorch's default: U(±1/√fan_in) for weights and biases (the classifier baseline).
    PyTorch,
}

thread_local! {
    /// bf16 copies of the weights, by the address of the fp32 weight, while a
    /// [`WeightCastScope`] is open.
    static WEIGHT_CASTS: RefCell<Option<HashMap<usize, (Tensor, Tensor)>>> = const { RefCell::new(None) };
}

/// While alive, each bf16 layer casts its weight and bias once, however often it runs: a
/// training step encodes three batches with G and runs each discriminator twice, on weights
/// that do not change until the step's update (what `torch.autocast`'s weight cache does).
/// Open one around a forward pass only, never across an update.
pub struct WeightCastScope(());

impl WeightCastScope {
    pub fn open() -> Self {
        WEIGHT_CASTS.with(|c| *c.borrow_mut() = Some(HashMap::new()));
        WeightCastScope(())
    }
}

impl Drop for WeightCastScope {
    fn drop(&mut self) {
        WEIGHT_CASTS.with(|c| *c.borrow_mut() = None);
    }
}

/// A 2-d convolution or transposed convolution. Its variables are `weight` and `bias`, as in
/// tch's and PyTorch's layers, so checkpoints keep their keys.
#[derive(Debug)]
pub struct Conv {
    pub ws: Tensor,
    pub bs: Tensor,
    stride: i64,
    padding: i64,
    transposed: bool,
    precision: Precision,
}

impl Conv {
    #[allow(clippy::too_many_arguments)]
    fn new(
        p: nn::Path,
        c_in: i64,
        c_out: i64,
        k: i64,
        stride: i64,
        padding: i64,
        transposed: bool,
        init: Init,
        precision: Precision,
    ) -> Self {
        // PyTorch's fan-in: a convolution's weight is [out, in, k, k], a transposed one's
        // [in, out, k, k], and both count dim 1 (× k²) as the fan-in.
        let shape = if transposed { [c_in, c_out, k, k] } else { [c_out, c_in, k, k] };
        let (ws_init, bs_init) = match init {
            Init::Dcgan => (nn::Init::Randn { mean: 0.0, stdev: STD }, nn::Init::Const(0.0)),
            Init::PyTorch => {
                let bound = 1.0 / ((shape[1] * k * k) as f64).sqrt();
                (nn::Init::Uniform { lo: -bound, up: bound }, nn::Init::Uniform { lo: -bound, up: bound })
            }
        };
        Conv { ws: p.var("weight", &shape, ws_init), bs: p.var("bias", &[c_out], bs_init), stride, padding, transposed, precision }
    }
}

/// Strides of an NCHW tensor stored channels-last (NHWC), as PyTorch's `channels_last` lays it out.
fn is_channels_last(t: &Tensor) -> bool {
    let (size, stride) = (t.size(), t.stride());
    size.len() == 4 && stride == [size[1] * size[2] * size[3], 1, size[3] * size[1], size[1]]
}

/// The same values, laid out channels-last (a copy unless already so).
fn channels_last(t: &Tensor) -> Tensor {
    if is_channels_last(t) {
        t.shallow_clone()
    } else {
        t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
    }
}

/// Up to this many images, a CPU convolution runs in fp32 on libtorch's own im2col kernels:
/// with one image oneDNN's set-up costs more than the arithmetic (G's and D's layers, forward and
/// backward, one image, timed layer by layer: 3.9 ms this way, 6.3 ms in oneDNN fp32, 5.3 ms in
/// bf16), while from four images on oneDNN wins.
const SMALL_BATCH: i64 = 2;

impl Conv {
    /// The small-batch path (see [`SMALL_BATCH`]): fp32, NCHW, no oneDNN.
    fn forward_small(&self, x: &Tensor) -> Tensor {
        let x = x.to_kind(Kind::Float).contiguous();
        let k = self.ws.size()[2];
        if self.transposed {
            x.slow_conv_transpose2d(&self.ws, [k, k], Some(&self.bs), [self.stride; 2], [self.padding; 2], [0, 0], [1, 1])
        } else {
            x.slow_conv_dilated2d(&self.ws, [k, k], Some(&self.bs), [self.stride; 2], [self.padding; 2], [1, 1])
        }
    }
}

/// Up to this many output pixels (a convolution) or input pixels (a transposed one), a bf16
/// convolution runs as one matrix product over explicit windows. There oneDNN's weight
/// gradient is slow (4×4 → 2×2, 128 → 256 channels, batch 64: 3.5 ms for 0.27 GFLOP), while a
/// matrix product's gradients are matrix products too.
const GEMM_PIXELS: i64 = 4;

impl Conv {
    /// libtorch's convolution (oneDNN on the CPU) of `x` with `w` and `b`.
    fn convolve(&self, x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
        if self.transposed {
            x.conv_transpose2d(w, Some(b), [self.stride; 2], [self.padding; 2], [0, 0], 1, [1, 1])
        } else {
            x.conv2d(w, Some(b), [self.stride; 2], [self.padding; 2], [1, 1], 1)
        }
    }

    /// Input, weight and bias in the layer's precision (bf16: channels-last).
    fn operands(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        match self.precision {
            Precision::Fp32 => (x.shallow_clone(), self.ws.shallow_clone(), self.bs.shallow_clone()),
            Precision::Bf16 => {
                let cast = || (channels_last(&self.ws.to_kind(Kind::BFloat16)), self.bs.to_kind(Kind::BFloat16));
                let (w, b) = WEIGHT_CASTS.with(|c| match c.borrow_mut().as_mut() {
                    Some(casts) => {
                        let (w, b) = casts.entry(self.ws.data_ptr() as usize).or_insert_with(cast);
                        (w.shallow_clone(), b.shallow_clone())
                    }
                    None => cast(),
                });
                (channels_last(&x.to_kind(Kind::BFloat16)), w, b)
            }
        }
    }

    /// The matrix-product path (see [`GEMM_PIXELS`]) for bf16 channels-last `x` and `w`, or
    /// `None` where the layer is too large for it. Returns NCHW sizes, channels-last memory.
    fn forward_gemm(&self, x: &Tensor, w: &Tensor, b: &Tensor) -> Option<Tensor> {
        let (n, c, h, wd) = x.size4().ok()?;
        let (k, s, p) = (w.size()[2], self.stride, self.padding);
        if self.transposed {
            if h * wd > GEMM_PIXELS {
                return None;
            }
            let o = w.size()[1];
            let (hp, wp) = ((h - 1) * s + k, (wd - 1) * s + k);
            // Each input pixel times W gives its k×k window of the output ...
            let rows = x.permute([0, 2, 3, 1]).reshape([n * h * wd, c]);
            let windows = rows.matmul(&w.permute([0, 2, 3, 1]).reshape([c, k * k * o])).view([n, h, wd, k, k, o]);
            // ... added into the (padded) output at its offset.
            let mut sum: Option<Tensor> = None;
            for i in 0..h {
                for j in 0..wd {
                    let placed = windows.select(1, i).select(1, j).constant_pad_nd([0, 0, j * s, wp - j * s - k, i * s, hp - i * s - k]);
                    sum = Some(match sum {
                        None => placed,
                        Some(total) => total + placed,
                    });
                }
            }
            let y = sum?.narrow(1, p, hp - 2 * p).narrow(2, p, wp - 2 * p) + b;
            Some(y.permute([0, 3, 1, 2]))
        } else {
            let (ho, wo) = ((h + 2 * p - k) / s + 1, (wd + 2 * p - k) / s + 1);
            if ho * wo > GEMM_PIXELS {
                return None;
            }
            let o = w.size()[0];
            // The k×k window under each output pixel, as a row of k·k·c values.
            let padded = x.constant_pad_nd([p, p, p, p]).permute([0, 2, 3, 1]);
            let windows: Vec<Tensor> =
                (0..ho).flat_map(|i| (0..wo).map(move |j| (i, j))).map(|(i, j)| padded.narrow(1, i * s, k).narrow(2, j * s, k)).collect();
            let rows = Tensor::stack(&windows, 1).reshape([n * ho * wo, k * k * c]);
            let y = b.addmm(&rows, &w.permute([0, 2, 3, 1]).reshape([o, k * k * c]).tr());
            Some(y.view([n, ho, wo, o]).permute([0, 3, 1, 2]))
        }
    }
}

impl nn::Module for Conv {
    fn forward(&self, x: &Tensor) -> Tensor {
        if x.size()[0] <= SMALL_BATCH && x.device() == tch::Device::Cpu {
            return self.forward_small(x);
        }
        let (x, w, b) = self.operands(x);
        if self.precision == Precision::Bf16 && x.device() == tch::Device::Cpu {
            if let Some(y) = self.forward_gemm(&x, &w, &b) {
                return y;
            }
        }
        let y = self.convolve(&x, &w, &b);
        match self.precision {
            // From a one-channel input oneDNN returns NCHW; the layers after it would then meet
            // channels-last gradients, and an elementwise kernel over two layouts runs 16× slower.
            Precision::Bf16 => channels_last(&y),
            Precision::Fp32 => y,
        }
    }
}

/// 4×4 convolution, stride 2, padding 1: halves the spatial size.
pub fn down(p: nn::Path, c_in: i64, c_out: i64, init: Init, precision: Precision) -> Conv {
    Conv::new(p, c_in, c_out, 4, 2, 1, false, init, precision)
}

pub fn conv(p: nn::Path, c_in: i64, c_out: i64, k: i64, stride: i64, padding: i64, precision: Precision) -> Conv {
    Conv::new(p, c_in, c_out, k, stride, padding, false, Init::Dcgan, precision)
}

/// 4×4 transposed convolution, stride 2, padding 1: doubles the spatial size.
pub fn up(p: nn::Path, c_in: i64, c_out: i64, precision: Precision) -> Conv {
    Conv::new(p, c_in, c_out, 4, 2, 1, true, Init::Dcgan, precision)
}

pub fn batch_norm(p: nn::Path, c: i64, init: Init) -> nn::BatchNorm {
    let ws_init = match init {
        Init::Dcgan => nn::Init::Randn { mean: 1.0, stdev: STD },
        Init::PyTorch => nn::Init::Const(1.0),
    };
    nn::batch_norm2d(p, c, nn::BatchNormConfig { ws_init, bs_init: nn::Init::Const(0.0), ..Default::default() })
}

/// How BatchNorm normalises in a forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// Training: batch statistics, and the running statistics follow them.
    Train,
    /// Training on labelled anomalies: batch statistics, but the running statistics (what
    /// evaluation normalises with) are left to the normal batches. (Normalising anomaly batches
    /// by the running statistics instead, as at test time, let ABC push up the normals' test
    /// error too: Shirt's validation AUROC of the reconstruction fell below 0.5.)
    TrainKeepStatistics,
    /// Evaluation: the running statistics.
    Eval,
}

impl From<bool> for Norm {
    /// `train` as tch's `ModuleT` passes it.
    fn from(train: bool) -> Self {
        if train {
            Norm::Train
        } else {
            Norm::Eval
        }
    }
}

/// BatchNorm in mode `norm`.
pub fn bn(layer: &nn::BatchNorm, x: &Tensor, norm: Norm) -> Tensor {
    match norm {
        Norm::Train => x.apply_t(layer, true),
        Norm::Eval => x.apply_t(layer, false),
        Norm::TrainKeepStatistics => {
            Tensor::batch_norm(x, layer.ws.as_ref(), layer.bs.as_ref(), None::<&Tensor>, None::<&Tensor>, true, 0.1, 1e-5, false)
        }
    }
}

/// LeakyReLU with slope 0.2: x + relu(−0.8·x). tch's `leaky_relu` is fixed at 0.01, and the
/// obvious max(x, 0.2·x) has a backward of five masked kernels that took a fifth of a bf16
/// training step; this form is three cheap kernels, and exact for x ≥ 0.
pub fn leaky_relu(x: &Tensor) -> Tensor {
    x + (x * -0.8).relu()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn::Module, Device};

    #[test]
    fn bf16_convolutions_agree_with_fp32_to_bfloat16_precision() {
        let vs = nn::VarStore::new(Device::Cpu);
        let fp32 = down(vs.root() / "a", 3, 8, Init::Dcgan, Precision::Fp32);
        let mut bf16 = down(vs.root() / "b", 3, 8, Init::Dcgan, Precision::Bf16);
        bf16.ws = fp32.ws.shallow_clone();
        let x = Tensor::randn([SMALL_BATCH + 2, 3, 8, 8], (Kind::Float, Device::Cpu));
        let (a, b) = (fp32.forward(&x), bf16.forward(&x));
        assert_eq!(b.kind(), Kind::BFloat16);
        assert!(is_channels_last(&b), "{:?}", b.stride());
        let scale = a.abs().max().double_value(&[]);
        let diff = (a - b.to_kind(Kind::Float)).abs().max().double_value(&[]);
        assert!(diff <= 2e-2 * scale, "{diff} vs scale {scale}");
        // Gradients reach the fp32 weights through the casts.
        bf16.forward(&x).to_kind(Kind::Float).sum(Kind::Float).backward();
        assert_eq!(fp32.ws.grad().kind(), Kind::Float);
        assert!(fp32.ws.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }

    #[test]
    fn a_weight_cast_scope_casts_once_and_ends_with_the_pass() {
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = down(vs.root(), 3, 8, Init::Dcgan, Precision::Bf16);
        let (x1, x2) = (Tensor::randn([4, 3, 8, 8], (Kind::Float, Device::Cpu)), Tensor::randn([5, 3, 8, 8], (Kind::Float, Device::Cpu)));
        let pass =
            || layer.forward(&x1).to_kind(Kind::Float).square().sum(Kind::Float) + layer.forward(&x2).to_kind(Kind::Float).sum(Kind::Float);
        let uncached = Tensor::run_backward(&[pass()], &[&layer.ws], false, false).remove(0);
        let (cached_loss, cached) = {
            let _scope = WeightCastScope::open();
            let loss = pass();
            let casts = WEIGHT_CASTS.with(|c| c.borrow().as_ref().map_or(0, |m| m.len()));
            assert_eq!(casts, 1, "one cast for two passes");
            (loss.shallow_clone(), Tensor::run_backward(&[loss], &[&layer.ws], false, false).remove(0))
        };
        assert!(WEIGHT_CASTS.with(|c| c.borrow().is_none()), "the scope closed");
        assert!((pass() - cached_loss).abs().double_value(&[]) < 1e-6, "same forward");
        let scale = uncached.abs().max().double_value(&[]);
        assert!((&cached - &uncached).abs().max().double_value(&[]) <= 1e-2 * scale, "same gradient to bf16 precision");
        // After the scope, a changed weight is cast afresh.
        let before = layer.forward(&x1);
        tch::no_grad(|| {
            let _ = layer.ws.shallow_clone().g_add_scalar_(0.5);
        });
        let _scope = WeightCastScope::open();
        assert!((layer.forward(&x1) - before).abs().max().double_value(&[]) > 0.1);
    }

    #[test]
    fn the_matrix_product_path_computes_the_convolution() {
        let vs = nn::VarStore::new(Device::Cpu);
        // The layers that take it: 4×4 → 2×2 down, 2×2 → 4×4 up, and a 4×4 kernel on 4×4 → 1×1.
        let layers = [
            (down(vs.root() / "d", 16, 8, Init::Dcgan, Precision::Bf16), 4),
            (up(vs.root() / "u", 16, 8, Precision::Bf16), 2),
            (conv(vs.root() / "i", 16, 1, 4, 1, 0, Precision::Bf16), 4),
        ];
        // Fixed weights and inputs (no draw from the generator the parallel tests share), and output
        // gradients of one sign: a bias gradient is then a sum without cancellation, which bf16's
        // rounding of each term could otherwise dwarf.
        let fixed =
            |shape: &[i64], rate: f64| (Tensor::arange(shape.iter().product::<i64>(), (Kind::Float, Device::Cpu)) * rate).sin().view(shape);
        for (layer, size) in &layers {
            tch::no_grad(|| {
                layer.ws.shallow_clone().copy_(&(fixed(&layer.ws.size(), 0.53) * 0.05));
                layer.bs.shallow_clone().copy_(&(fixed(&layer.bs.size(), 1.3) * 0.1));
            });
            let x = fixed(&[SMALL_BATCH + 3, 16, *size, *size], 0.37);
            let (xb, wb, bb) = layer.operands(&x);
            let ours = layer.forward_gemm(&xb, &wb, &bb).expect("small enough for the matrix path");
            assert!(is_channels_last(&ours) || ours.size()[2] * ours.size()[3] == 1, "{:?}", ours.stride());
            let (w, b) = (&layer.ws, &layer.bs);
            let reference = layer.convolve(&x, w, b);
            assert_eq!(ours.size(), reference.size());
            let scale = reference.abs().max().double_value(&[]);
            let diff = (ours.to_kind(Kind::Float) - &reference).abs().max().double_value(&[]);
            assert!(diff <= 2e-2 * scale, "forward: {diff} vs scale {scale}");
            let g = fixed(&reference.size(), 0.71) * 0.5 + 1.0;
            let mine = Tensor::run_backward(&[(ours.to_kind(Kind::Float) * &g).sum(Kind::Float)], &[w, b], false, false);
            let theirs = Tensor::run_backward(&[(reference * &g).sum(Kind::Float)], &[w, b], false, false);
            for (a, b) in mine.iter().zip(&theirs) {
                let scale = b.abs().max().double_value(&[]);
                let diff = (a - b).abs().max().double_value(&[]);
                assert!(diff <= 3e-2 * scale, "gradient: {diff} vs scale {scale}");
            }
        }
        // Larger layers stay with oneDNN.
        let larger = down(vs.root() / "l", 16, 8, Init::Dcgan, Precision::Bf16);
        let (xb, wb, bb) = larger.operands(&Tensor::randn([8, 16, 8, 8], (Kind::Float, Device::Cpu)));
        assert!(larger.forward_gemm(&xb, &wb, &bb).is_none());
    }

    #[test]
    fn small_batches_compute_what_onednn_computes_in_fp32() {
        let vs = nn::VarStore::new(Device::Cpu);
        for conv in [down(vs.root() / "d", 3, 8, Init::Dcgan, Precision::Bf16), up(vs.root() / "u", 3, 8, Precision::Bf16)] {
            let x = Tensor::randn([1, 3, 8, 8], (Kind::Float, Device::Cpu));
            let small = conv.forward(&x);
            assert_eq!(small.kind(), Kind::Float);
            let reference = conv.convolve(&x, &conv.ws, &conv.bs);
            assert_eq!(small.size(), reference.size());
            assert!((&small - &reference).abs().max().double_value(&[]) < 1e-5);
            // Gradients as well.
            let weights = [&conv.ws, &conv.bs];
            let ours = Tensor::run_backward(&[small.square().sum(Kind::Float)], &weights, false, false);
            let theirs = Tensor::run_backward(&[reference.square().sum(Kind::Float)], &weights, false, false);
            for (a, b) in ours.iter().zip(&theirs) {
                assert!((a - b).abs().max().double_value(&[]) < 1e-4);
            }
        }
    }

    #[test]
    fn anomaly_batches_leave_the_running_statistics_alone() {
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = batch_norm(vs.root(), 3, Init::Dcgan);
        let x = Tensor::randn([4, 3, 2, 2], (Kind::Float, Device::Cpu)) * 5.0 + 3.0;
        let before = layer.running_mean.copy();
        let kept = bn(&layer, &x, Norm::TrainKeepStatistics);
        assert_eq!(layer.running_mean, before);
        let trained = bn(&layer, &x, Norm::Train);
        assert_ne!(layer.running_mean, before);
        assert!(max_abs(&(kept - trained)) < 1e-5, "both normalise by the batch");
    }

    fn max_abs(t: &Tensor) -> f64 {
        t.abs().max().double_value(&[])
    }

    #[test]
    fn pytorch_default_init_is_bounded_by_the_fan_in() {
        let vs = nn::VarStore::new(Device::Cpu);
        let c = down(vs.root(), 32, 64, Init::PyTorch, Precision::Fp32);
        let bound = 1.0 / (32.0f64 * 16.0).sqrt();
        assert!(c.ws.abs().max().double_value(&[]) <= bound && c.bs.abs().max().double_value(&[]) <= bound);
        assert_eq!(c.ws.size(), vec![64, 32, 4, 4]);
        let t = up(vs.root() / "t", 64, 32, Precision::Fp32);
        assert_eq!(t.ws.size(), vec![64, 32, 4, 4]);
    }
}
