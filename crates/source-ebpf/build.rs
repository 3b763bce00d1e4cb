//! Compiles the CO-RE probe (`probe/peregrine.bpf.c`) with clang into an
//! object that the crate embeds.
//!
//! vmlinux.h is generated at build time from the build host's BTF
//! (`bpftool btf dump file /sys/kernel/btf/vmlinux format c`): it is 2-3 MB,
//! would go stale in the repository, and CO-RE relocations make the object
//! portable anyway. Builders without BTF point `PEREGRINE_VMLINUX_H` at a
//! saved header, or `PEREGRINE_BTF` at another BTF file.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let probe = manifest.join("probe");
    println!("cargo:rerun-if-changed={}", probe.display());
    for entry in std::fs::read_dir(&probe).expect("probe dir") {
        let p = entry.expect("probe entry").path();
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-env-changed=PEREGRINE_VMLINUX_H");
    println!("cargo:rerun-if-env-changed=PEREGRINE_BTF");
    println!("cargo:rerun-if-env-changed=CLANG");

    let vmlinux = out.join("vmlinux.h");
    write_vmlinux_h(&vmlinux);

    let include = env::var("DEP_BPF_INCLUDE").expect("libbpf-sys exports its headers");
    let arch = match env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86_64") => "x86",
        Ok("aarch64") => "arm64",
        Ok(other) => panic!("unsupported target arch for the probe: {other}"),
        Err(_) => "x86",
    };
    let obj = out.join("peregrine.bpf.o");
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let status = Command::new(&clang)
        .args(["-g", "-O2", "-target", "bpf", "-mcpu=v3"])
        .arg(format!("-D__TARGET_ARCH_{arch}"))
        .arg("-Wall")
        .arg("-Wno-unused-function")
        .arg("-Werror")
        .arg("-fno-stack-protector")
        .arg("-I")
        .arg(&out)
        .arg("-I")
        .arg(&include)
        .arg("-I")
        .arg(&probe)
        .arg("-c")
        .arg(probe.join("peregrine.bpf.c"))
        .arg("-o")
        .arg(&obj)
        .status()
        .unwrap_or_else(|e| panic!("running {clang}: {e} (install clang)"));
    assert!(status.success(), "clang failed to compile the probe");
    // DWARF is not needed at run time (BTF is kept); strip it to shrink the
    // embedded object. Optional: a missing llvm-strip only costs size.
    let _ = Command::new("llvm-strip").arg("-g").arg(&obj).status();
}

fn write_vmlinux_h(dst: &Path) {
    if let Ok(src) = env::var("PEREGRINE_VMLINUX_H") {
        std::fs::copy(&src, dst).unwrap_or_else(|e| panic!("copy {src}: {e}"));
        return;
    }
    let btf = env::var("PEREGRINE_BTF").unwrap_or_else(|_| "/sys/kernel/btf/vmlinux".into());
    let output = Command::new("bpftool")
        .args(["btf", "dump", "file", &btf, "format", "c"])
        .output()
        .unwrap_or_else(|e| {
            panic!("running bpftool: {e} (install bpftool, or set PEREGRINE_VMLINUX_H)")
        });
    assert!(
        output.status.success(),
        "bpftool could not dump {btf}: {} (set PEREGRINE_VMLINUX_H to a saved vmlinux.h)",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(dst, output.stdout).expect("write vmlinux.h");
}
