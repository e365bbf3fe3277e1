//! The `doithoai` command: `serve` (the default), `migrate`, `user create`, `demo`.

use std::process::ExitCode;

fn main() -> ExitCode {
    doithoai::cli::main()
}
