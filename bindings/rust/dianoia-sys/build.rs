// Links libdianoia: DIANOIA_LIB_DIR (a directory holding libdianoia.so), else `pkg-config dianoia`
// (an installed library, or a dianoia.pc for a build tree on PKG_CONFIG_PATH).
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=DIANOIA_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    if let Ok(dir) = std::env::var("DIANOIA_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=dylib=dianoia");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        return;
    }
    let out = Command::new("pkg-config").args(["--libs", "dianoia"]).output();
    let out = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => panic!("libdianoia not found: install it (pkg-config dianoia) or set DIANOIA_LIB_DIR"),
    };
    for flag in out.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={dir}");
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={lib}");
        } else if flag.starts_with("-Wl,") {
            println!("cargo:rustc-link-arg={flag}");
        }
    }
}
