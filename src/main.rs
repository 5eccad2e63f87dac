//! The `smartup` binary: see the `cli` module.

fn main() -> std::process::ExitCode {
    smartup::cli::main()
}
