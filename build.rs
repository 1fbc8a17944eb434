//! Compiles the Slint UI. Debug info is kept so tests (and screen readers)
//! can find elements by their accessible labels; bundled translations make
//! `@tr()` strings switchable at run time without gettext on the Pi.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations("ui/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("ui/app-window.slint", config).expect("the Slint UI compiles");
    println!("cargo:rerun-if-changed=ui");
}
