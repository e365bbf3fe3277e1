//! The `doithoai` command: `serve` (the default), `migrate`, `user create`, `demo`.

use std::process::ExitCode;

/// mimalloc instead of glibc's allocator: a server that allocates on many threads at once
/// (request workers, blocking threads, the committing thread) spent a tenth of its time in
/// glibc's malloc and its arena locks, and kept memory fragmented across arenas
/// (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    doithoai::cli::main()
}
