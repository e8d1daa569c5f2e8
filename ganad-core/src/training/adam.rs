//! Adam (Kingma & Ba, ICLR 2015) with its state in tensors we own, so that a checkpoint holds it.
//!
//! tch's optimizers keep their moments inside libtorch with no way to read or write them, so a
//! run resumed from a checkpoint restarted Adam from zero and drifted away from the uninterrupted
//! run. Here the moments and the step count are plain tensors, saved beside the weights.
//! The update is PyTorch's `torch.optim.Adam` (no amsgrad), term for term, with its coupled weight
//! decay (the L2 penalty added to the gradient) where the config sets one.

use crate::error::{Error, Result};
use std::collections::HashMap;
use tch::{nn, Kind, Tensor};

/// β1, β2, ε, the learning rate and the weight decay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// `torch.optim.Adam`'s `weight_decay`: g ← g + λ·θ before the moments (0 = none).
    pub weight_decay: f64,
}

/// Adam over the trainable variables of one VarStore.
///
/// The variables are moved into one flat buffer (each becomes a view of its slice), so an update
/// is a handful of operations on one tensor instead of a handful per variable: at batch 1 the
/// per-variable loop of `torch.optim.Adam` costs as much as a network's forward pass.
pub struct Adam {
    pub config: AdamConfig,
    params: Vec<Tensor>,
    /// All of `params`, back to back; each param's storage is a view into it.
    flat: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    /// Updates applied so far (the t of the bias corrections).
    pub steps: i64,
}

impl Adam {
    pub fn new(vs: &nn::VarStore, config: AdamConfig) -> Self {
        // Trainable = requires grad (BatchNorm's running statistics do not). Sorted by name, so
        // the flat layout does not depend on hash order.
        let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut params: Vec<Tensor> = named.into_iter().map(|(_, t)| t).collect();
        let device = vs.device();
        let flat = tch::no_grad(|| {
            if params.is_empty() {
                return Tensor::zeros([0], (Kind::Float, device));
            }
            Tensor::cat(&params.iter().map(|p| p.detach().reshape([-1])).collect::<Vec<_>>(), 0)
        });
        let mut offset = 0;
        for p in &mut params {
            let n = p.numel() as i64;
            p.set_data(&flat.narrow(0, offset, n).view(p.size().as_slice()));
            offset += n;
        }
        Adam { config, exp_avg: flat.zeros_like(), exp_avg_sq: flat.zeros_like(), flat, params, steps: 0 }
    }

    /// The parameters this optimizer updates.
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// ∂loss/∂θ for this optimizer's parameters only, one flat tensor per parameter in the
    /// buffer's order: autograd does not spend work on the gradients of other networks the loss
    /// passes through. `keep_graph` when another network's gradients are taken from the same
    /// graph afterwards.
    pub fn gradients(&self, loss: &Tensor, keep_graph: bool) -> Vec<Tensor> {
        let grads = Tensor::run_backward(&[loss], &self.params, keep_graph, false);
        grads.iter().zip(&self.params).map(|(g, p)| if g.defined() { g.reshape([-1]) } else { p.zeros_like().reshape([-1]) }).collect()
    }

    /// One Adam update with the gradients from [`Self::gradients`].
    pub fn apply(&mut self, grads: &[Tensor]) {
        let decayed: Vec<Tensor>;
        let grads = if self.config.weight_decay > 0.0 {
            let wd = self.config.weight_decay;
            decayed = tch::no_grad(|| grads.iter().zip(&self.params).map(|(g, p)| g + p.detach().reshape([-1]) * wd).collect());
            &decayed
        } else {
            grads
        };
        self.steps += 1;
        let c = Coefficients::new(&self.config, self.steps);
        if fused::applies(&self.flat, grads, &[&self.exp_avg, &self.exp_avg_sq]) {
            fused::update(&self.flat, grads, &self.exp_avg, &self.exp_avg_sq, &c);
        } else {
            self.apply_as_tensors(&Tensor::cat(grads, 0), &c);
        }
    }

    /// The update as tensor operations, for any device and precision.
    fn apply_as_tensors(&mut self, grad: &Tensor, c: &Coefficients) {
        tch::no_grad(|| {
            // m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
            let _ = self.exp_avg.lerp_(grad, 1.0 - c.beta1);
            let _ = self.exp_avg_sq.lerp_(&grad.square(), 1.0 - c.beta2);
            // θ ← θ − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε), written as θ + m / d with
            // d = (√v + ε·√(1 − β2ᵗ)) · −(1 − β1ᵗ) / (lr·√(1 − β2ᵗ)), built in place.
            let mut denom = self.exp_avg_sq.sqrt();
            let _ = denom.g_add_scalar_(c.eps * c.bias2_sqrt).g_mul_scalar_(-1.0 / (c.step_size * c.bias2_sqrt));
            let _ = self.flat.addcdiv_(&self.exp_avg, &denom);
        });
    }

    /// Forgets the moments and the step count: a new optimizer over the same parameters.
    pub fn reset(&mut self) {
        let _ = self.exp_avg.zero_();
        let _ = self.exp_avg_sq.zero_();
        self.steps = 0;
    }

    /// The state as named tensors, for a safetensors file.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        vec![
            ("steps".to_string(), Tensor::from(self.steps)),
            ("exp_avg".to_string(), self.exp_avg.shallow_clone()),
            ("exp_avg_sq".to_string(), self.exp_avg_sq.shallow_clone()),
        ]
    }

    /// Restores a state written by [`Self::state`]; `what` names the file in errors.
    pub fn load_state(&mut self, mut named: HashMap<String, Tensor>, what: &str) -> Result<()> {
        let mut take = |key: &str, like: &Tensor| -> Result<Tensor> {
            let t = named.remove(key).ok_or_else(|| Error::Shape(format!("{what}: optimizer state lacks {key}")))?;
            if t.size() != like.size() {
                return Err(Error::Shape(format!("{what}: {key} is {:?}, the network needs {:?}", t.size(), like.size())));
            }
            Ok(t.to_device(like.device()).to_kind(like.kind()))
        };
        let steps = take("steps", &Tensor::from(0i64))?.int64_value(&[]);
        let exp_avg = take("exp_avg", &self.flat)?;
        let exp_avg_sq = take("exp_avg_sq", &self.flat)?;
        (self.exp_avg, self.exp_avg_sq, self.steps) = (exp_avg, exp_avg_sq, steps);
        Ok(())
    }
}

/// The scalars of one update at step t.
struct Coefficients {
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// lr / (1 − β1ᵗ)
    step_size: f64,
    /// √(1 − β2ᵗ)
    bias2_sqrt: f64,
}

impl Coefficients {
    fn new(config: &AdamConfig, t: i64) -> Self {
        let AdamConfig { learning_rate, beta1, beta2, eps, .. } = *config;
        Coefficients {
            beta1,
            beta2,
            eps,
            step_size: learning_rate / (1.0 - beta1.powi(t as i32)),
            bias2_sqrt: (1.0 - beta2.powi(t as i32)).sqrt(),
        }
    }
}

/// Adam as one pass over θ, g, m and v on the CPU. On a CPU the update is bound by memory,
/// not arithmetic, and the tensor form above reads or writes the buffers 18 times per value
/// against 7 here (batch 1: the update was an eighth of a training step).
mod fused {
    use super::Coefficients;
    use tch::{Device, Kind, Tensor};

    fn cpu_f32(t: &Tensor) -> bool {
        t.device() == Device::Cpu && t.kind() == Kind::Float && t.is_contiguous()
    }

    /// Whether the buffers qualify: contiguous fp32 on the CPU, the moments as long as θ and
    /// the gradient pieces together as long.
    pub fn applies(theta: &Tensor, grads: &[Tensor], moments: &[&Tensor]) -> bool {
        let n = theta.numel();
        cpu_f32(theta)
            && moments.iter().all(|t| cpu_f32(t) && t.numel() == n)
            && grads.iter().all(cpu_f32)
            && grads.iter().map(Tensor::numel).sum::<usize>() == n
    }

    /// The update in place, on this thread: a second thread would compete with libtorch's
    /// OpenMP worker, which spins between parallel regions (measured: 2 threads were slower).
    /// θ, m and v are the optimizer's own buffers and the gradients are autograd's fresh
    /// tensors: distinct allocations, so the slices below never alias.
    pub fn update(theta: &Tensor, grads: &[Tensor], m: &Tensor, v: &Tensor, c: &Coefficients) {
        let n = theta.numel();
        // SAFETY: `applies` checked that each tensor is a contiguous CPU fp32 buffer of the
        // lengths used here; nothing else reads or writes them during this call.
        let (theta, m, v) = unsafe {
            (
                std::slice::from_raw_parts_mut(theta.data_ptr() as *mut f32, n),
                std::slice::from_raw_parts_mut(m.data_ptr() as *mut f32, n),
                std::slice::from_raw_parts_mut(v.data_ptr() as *mut f32, n),
            )
        };
        let (w1, w2) = ((1.0 - c.beta1) as f32, (1.0 - c.beta2) as f32);
        let (step_size, inv_bias2_sqrt, eps) = (c.step_size as f32, (1.0 / c.bias2_sqrt) as f32, c.eps as f32);
        let mut at = 0;
        for g in grads {
            let k = g.numel();
            // SAFETY: as above.
            let g = unsafe { std::slice::from_raw_parts(g.data_ptr() as *const f32, k) };
            // PyTorch's single-tensor Adam per value, in fp32 as it computes.
            let values = theta[at..at + k].iter_mut().zip(g).zip(&mut m[at..at + k]).zip(&mut v[at..at + k]);
            for (((p, &g), m), v) in values {
                *m += w1 * (g - *m);
                *v += w2 * (g * g - *v);
                *p -= step_size * *m / (v.sqrt() * inv_bias2_sqrt + eps);
            }
            at += k;
        }
    }
}

/// max |a − b|, as used by the equivalence tests.
pub fn max_abs_difference(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().to_kind(Kind::Double).double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn::OptimizerConfig, Device};

    /// A small network; `like` gives it another's weights. Tests run in parallel threads that
    /// share libtorch's one random generator, so two stores seeded alike may still differ.
    fn store(like: Option<&nn::VarStore>) -> nn::VarStore {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let _ = nn::linear(vs.root() / "a", 3, 4, Default::default());
        let _ = nn::linear(vs.root() / "b", 4, 1, Default::default());
        if let Some(other) = like {
            vs.copy(other).unwrap();
        }
        vs
    }

    fn loss(vs: &nn::VarStore, x: &Tensor) -> Tensor {
        let v = vs.variables();
        let h = x.matmul(&v["a.weight"].tr()) + &v["a.bias"];
        (h.tanh().matmul(&v["b.weight"].tr()) + &v["b.bias"]).pow_tensor_scalar(2).mean(Kind::Float)
    }

    const CONFIG: AdamConfig = AdamConfig { learning_rate: 1e-2, beta1: 0.5, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 };

    /// Same trajectory as libtorch's Adam (torch.optim.Adam(lr=1e-2, betas=(0.5, 0.999))).
    #[test]
    fn matches_libtorch_adam() {
        let x = Tensor::randn([8, 3], (Kind::Float, Device::Cpu));
        let ours_vs = store(None);
        let theirs_vs = store(Some(&ours_vs));
        let initial = ours_vs.variables()["a.weight"].copy();
        let mut ours = Adam::new(&ours_vs, CONFIG);
        let mut theirs = nn::Adam { beta1: 0.5, beta2: 0.999, ..Default::default() }.build(&theirs_vs, 1e-2).unwrap();
        for _ in 0..20 {
            let grad = ours.gradients(&loss(&ours_vs, &x), false);
            ours.apply(&grad);
            theirs.backward_step(&loss(&theirs_vs, &x));
        }
        let (a, b) = (ours_vs.variables(), theirs_vs.variables());
        for (name, t) in &a {
            let d = max_abs_difference(t, &b[name]);
            assert!(d < 1e-6, "{name} differs by {d}");
        }
        // The store's variables are views of the flat buffer: the updates reached them.
        assert!(max_abs_difference(&a["a.weight"], &initial) > 1e-3);
    }

    /// Weight decay as `torch.optim.Adam(weight_decay=λ)`: the gradient gains λ·θ. Checked
    /// against the plain update on a loss that adds λ/2·‖θ‖² itself.
    #[test]
    fn weight_decay_is_the_l2_gradient() {
        let x = Tensor::randn([8, 3], (Kind::Float, Device::Cpu));
        let decayed_vs = store(None);
        let penalised_vs = store(Some(&decayed_vs));
        let wd = 0.05;
        let mut decayed = Adam::new(&decayed_vs, AdamConfig { weight_decay: wd, ..CONFIG });
        let mut penalised = Adam::new(&penalised_vs, CONFIG);
        for _ in 0..10 {
            let g = decayed.gradients(&loss(&decayed_vs, &x), false);
            decayed.apply(&g);
            let l2 = penalised_vs.trainable_variables().iter().map(|t| t.square().sum(Kind::Float)).fold(Tensor::from(0f32), |a, b| a + b);
            let g = penalised.gradients(&(loss(&penalised_vs, &x) + l2 * (wd / 2.0)), false);
            penalised.apply(&g);
        }
        let (a, b) = (decayed_vs.variables(), penalised_vs.variables());
        for (name, t) in &a {
            assert!(max_abs_difference(t, &b[name]) < 1e-6, "{name}");
        }
        decayed.reset();
        assert_eq!((decayed.steps, decayed.exp_avg.abs().sum(Kind::Float).double_value(&[])), (0, 0.0));
    }

    /// The fused CPU pass computes what the tensor form computes, to fp32 rounding.
    #[test]
    fn fused_update_matches_the_tensor_form() {
        let wide = || {
            let vs = nn::VarStore::new(Device::Cpu);
            let _ = nn::linear(vs.root() / "wide", 400, 400, Default::default());
            vs
        };
        let vs = wide();
        let mut twin_vs = wide();
        twin_vs.copy(&vs).unwrap();
        let (mut fused, mut tensors) = (Adam::new(&vs, CONFIG), Adam::new(&twin_vs, CONFIG));
        let n = fused.flat.numel() as i64;
        for step in 1..=30 {
            // In two pieces, as the gradients of two parameters come.
            let grad = Tensor::randn([n], (Kind::Float, Device::Cpu)) * 0.1;
            let pieces = [grad.narrow(0, 0, 777).copy(), grad.narrow(0, 777, n - 777).copy()];
            assert!(fused::applies(&fused.flat, &pieces, &[&fused.exp_avg, &fused.exp_avg_sq]), "the CPU buffers qualify");
            fused.apply(&pieces);
            tensors.steps += 1;
            tensors.apply_as_tensors(&grad, &Coefficients::new(&CONFIG, step));
        }
        for (a, b) in [(&fused.flat, &tensors.flat), (&fused.exp_avg, &tensors.exp_avg), (&fused.exp_avg_sq, &tensors.exp_avg_sq)] {
            let d = max_abs_difference(a, b);
            assert!(d < 1e-6, "differs by {d}");
        }
    }

    /// Saving and restoring mid-way continues exactly where the uninterrupted run goes.
    #[test]
    fn state_round_trip_continues_bit_exactly() {
        let x = Tensor::randn([8, 3], (Kind::Float, Device::Cpu));
        let run = |vs: &nn::VarStore, adam: &mut Adam, steps: usize| {
            for _ in 0..steps {
                let g = adam.gradients(&loss(vs, &x), false);
                adam.apply(&g);
            }
        };
        let straight_vs = store(None);
        let first_vs = store(Some(&straight_vs));
        let mut straight = Adam::new(&straight_vs, CONFIG);
        run(&straight_vs, &mut straight, 10);

        let mut first = Adam::new(&first_vs, CONFIG);
        run(&first_vs, &mut first, 4);
        let resumed_vs = store(Some(&first_vs));
        let mut resumed = Adam::new(&resumed_vs, CONFIG);
        resumed.load_state(first.state().into_iter().map(|(k, t)| (k, t.copy())).collect(), "test").unwrap();
        run(&resumed_vs, &mut resumed, 6);
        assert_eq!(resumed.steps, 10);
        let (a, b) = (straight_vs.variables(), resumed_vs.variables());
        for (name, t) in &a {
            assert_eq!(max_abs_difference(t, &b[name]), 0.0, "{name}");
        }
        let err = resumed.load_state(HashMap::new(), "x.safetensors").unwrap_err().to_string();
        assert!(err.contains("x.safetensors") && err.contains("steps"), "{err}");
    }
}
