//! `fluxvet install-hook`: the git pre-push hook.

use crate::cli::InstallHookArgs;
use crate::git;

pub fn run(args: InstallHookArgs) -> Result<u8, String> {
    let (path, how) = git::install_hook(std::path::Path::new("."), args.force, &args.check_args)?;
    match how {
        git::HookInstall::Written => println!("fluxvet: wrote {}", path.display()),
        git::HookInstall::Updated => println!("fluxvet: updated {}", path.display()),
        git::HookInstall::AlreadyInstalled => println!(
            "fluxvet: the hook is already installed at {}; nothing to do",
            path.display()
        ),
    }
    Ok(0)
}
