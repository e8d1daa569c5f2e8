//! Device choice, and making CUDA reachable where the linker could not help (notebook cells).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind};

/// Parses "auto", "cpu", "cuda" or "cuda:N".
pub fn parse_device(s: &str) -> Result<Option<Device>> {
    let bad = || Error::config("train.device", format!("{s:?} is not one of auto, cpu, cuda, cuda:N"));
    match s {
        "auto" => Ok(None),
        "cpu" => Ok(Some(Device::Cpu)),
        "cuda" => Ok(Some(Device::Cuda(0))),
        _ => match s.strip_prefix("cuda:") {
            Some(n) => n.parse().map(|n| Some(Device::Cuda(n))).map_err(|_| bad()),
            None => Err(bad()),
        },
    }
}

/// The device a config asks for; "auto" is CUDA when available. Asking for CUDA on a machine
/// without it is an error, not a silent fall-back to the CPU.
pub fn resolve(s: &str) -> Result<Device> {
    load_cuda();
    keep_freed_memory();
    match parse_device(s)? {
        None => Ok(Device::cuda_if_available()),
        Some(Device::Cuda(n)) => {
            let count = tch::Cuda::device_count();
            if (n as i64) < count {
                Ok(Device::Cuda(n))
            } else {
                Err(Error::config("train.device", format!("{s} asked for, but {count} CUDA devices are visible; use --device cpu or auto")))
            }
        }
        Some(d) => Ok(d),
    }
}

/// Loads `libtorch_cuda.so` into the process, once, if it exists.
///
/// Our binaries link it with `--no-as-needed` (build.rs); a notebook cell's library cannot, so
/// without this libtorch in a notebook never registers its CUDA backend. Returns whether it loaded.
pub fn load_cuda() -> bool {
    static LOADED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *LOADED.get_or_init(|| {
        let Some(dir) = libtorch_lib_dir() else { return false };
        let path = std::path::Path::new(&dir).join("libtorch_cuda.so");
        let Ok(c_path) = std::ffi::CString::new(path.to_string_lossy().as_bytes()) else { return false };
        // SAFETY: dlopen with a valid NUL-terminated path; the handle is kept for the process's life.
        !unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) }.is_null()
    })
}

/// Tells glibc's malloc, once, to keep freed memory in the heap instead of handing it back to
/// the kernel. A training step frees and reallocates the same megabyte-sized temporaries
/// hundreds of times; with glibc's defaults the heap shrank and grew again each time, and the
/// page faults and zeroing that followed took a tenth of a step (examples/profile_step, batch 64:
/// 121 → 110 ms).
/// The cost is a heap that stays at its high-water mark.
pub fn keep_freed_memory() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only sets allocator parameters; called once, before heavy allocation.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20); // glibc's largest: blocks up to 32 MiB come from the heap
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        }
    });
}

/// The shared object whose `malloc` this process calls (libtorch's too): glibc's `libc.so.6`, or
/// tcmalloc where the `ganad` binary links it (build.rs). `None` where it cannot be told.
pub fn allocator() -> Option<std::path::PathBuf> {
    #[cfg(target_os = "linux")]
    {
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        // SAFETY: dladdr only reads the loader's tables; `malloc` is the address every caller in
        // this process resolves to, and dli_fname points at a string the loader keeps.
        let found = unsafe { libc::dladdr(libc::malloc as *const libc::c_void, &mut info) } != 0;
        if found && !info.dli_fname.is_null() {
            let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
            return Some(std::path::PathBuf::from(name.to_string_lossy().into_owned()));
        }
    }
    None
}

/// The file name of [`allocator`]'s library, or "unknown".
pub fn allocator_name() -> String {
    allocator().and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_else(|| "unknown".into())
}

/// The libtorch library directory this crate was built against, if known.
pub fn libtorch_lib_dir() -> Option<String> {
    option_env!("GANAD_LIBTORCH_LIB").map(str::to_string)
}

/// The CPU's native bfloat16 units among AVX-512 BF16 and AMX-BF16 (from /proc/cpuinfo).
pub fn cpu_bf16_units() -> Vec<&'static str> {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags: Vec<&str> = info.lines().find(|l| l.starts_with("flags")).unwrap_or("").split_whitespace().collect();
    ["avx512_bf16", "amx_bf16"].into_iter().filter(|f| flags.contains(f)).collect()
}

/// Whether this CPU computes bfloat16 natively (AVX-512 BF16 or AMX-BF16).
pub fn cpu_native_bf16() -> bool {
    static NATIVE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *NATIVE.get_or_init(|| !cpu_bf16_units().is_empty())
}

/// The dtype the convolutions compute in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    #[default]
    Fp32,
    Bf16,
}

impl Precision {
    pub fn kind(self) -> Kind {
        match self {
            Precision::Fp32 => Kind::Float,
            Precision::Bf16 => Kind::BFloat16,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
        }
    }
}

/// The `train.precision` setting; [`precision`] resolves it for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PrecisionChoice {
    #[default]
    Auto,
    Fp32,
    Bf16,
}

/// The precision a `train.precision` setting gives on `device`: "auto" is bf16 only on a CPU
/// with native bf16 units (elsewhere bf16 is emulated and slower than fp32), fp32 on CUDA.
pub fn precision(choice: PrecisionChoice, device: Device) -> Result<Precision> {
    match (choice, device) {
        (PrecisionChoice::Fp32, _) => Ok(Precision::Fp32),
        (PrecisionChoice::Auto, Device::Cpu) if cpu_native_bf16() => Ok(Precision::Bf16),
        (PrecisionChoice::Auto, _) => Ok(Precision::Fp32),
        (PrecisionChoice::Bf16, Device::Cpu) if !cpu_native_bf16() => Err(Error::config(
            "train.precision",
            "bf16 asked for, but this CPU has no native bf16 (avx512_bf16 or amx_bf16): it would be emulated and slow; use auto or fp32",
        )),
        (PrecisionChoice::Bf16, _) => Ok(Precision::Bf16),
    }
}

/// "cpu" or "cuda:N (name)" for run records.
pub fn describe(device: Device) -> String {
    match device {
        Device::Cpu => format!("cpu ({} threads)", tch::get_num_threads()),
        Device::Cuda(n) => format!("cuda:{n}"),
        other => format!("{other:?}"),
    }
}
