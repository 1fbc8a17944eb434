//! Drives the real till UI in tests: starts the kiosk service with its
//! in-process simulator on a temporary SQLite file, builds the window, and
//! runs async scenarios on Slint's event loop, tapping by accessible label.
//! The caller picks the Slint platform first (testing backend or software).

#![allow(dead_code)]

pub mod software;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::ElementHandle;
use luka::app::App;
use luka::config::Config;
use luka::ui::{AppState, Page, PayAdapter, ResultAdapter, SaleAdapter, Services, Ui};
use slint::ComponentHandle;

/// Which till the window runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Till {
    /// The credential-free demo: a training till with its own simulator.
    Demo,
    /// A production till whose Vipps (test environment) is a simulator the
    /// test plays the customer on ([`T::vipps`]); it can switch training on.
    Production,
}

/// Everything a scenario touches.
pub struct T {
    pub ui: Ui,
    pub app: App,
    /// A production till's Vipps, played by the test.
    pub vipps: Option<luka::sim::SimHandle>,
    /// Where the file printer writes its ESC/POS bytes.
    pub printer: PathBuf,
    pub shots: Vec<PathBuf>,
}

/// Starts the till, runs `scenarios` inside the event loop, stops the till;
/// a panic in a scenario is re-raised after the loop has ended.
pub fn run<Fut: Future<Output = ()> + 'static>(scenarios: impl FnOnce(Rc<T>) -> Fut) {
    run_till(Till::Demo, scenarios)
}

/// [`run`] with the till of choice.
pub fn run_till<Fut: Future<Output = ()> + 'static>(
    till: Till,
    scenarios: impl FnOnce(Rc<T>) -> Fut,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A receipt printer that writes its ESC/POS bytes to a file, with a
    // drawer on its kick port: cash returns and "Åpne skuff" open it.
    let vipps = (till == Till::Production).then(|| {
        rt.block_on(luka::sim::start(
            ([127, 0, 0, 1], 0).into(),
            luka::sim::SimConfig::training(),
        ))
        .unwrap()
    });
    let (production, credentials) = match &vipps {
        None => (String::new(), String::new()),
        Some(sim) => {
            let c = luka::sim::SimConfig::training();
            (
                format!(
                    "[till]\nid = \"kiosk-1\"\ncard_terminal = true\norder_numbers = true\n\n[ui]\npin_hash = \"{}\"\n\n\
                     [merchant]\nname = \"Testklubben\"\norg_number = \"974760673\"\n\n",
                    luka::pin::PinHash::create("1234").unwrap().as_str(),
                ),
                format!(
                    "environment = \"test\"\nbase_url = \"{url}\"\nclient_id = \"{id}\"\n\
                     client_secret = \"{secret}\"\nsubscription_key = \"{key}\"\n\
                     merchant_serial_number = \"{msn}\"\n",
                    url = sim.base_url(),
                    id = c.client_id,
                    secret = c.client_secret,
                    key = c.subscription_key,
                    msn = c.merchant_serial_number,
                ),
            )
        }
    };
    let text = format!(
        "{production}[store]\npath = \"{}\"\n\n[training]\nlisten = \"127.0.0.1:0\"\n\n\
         [vipps]\n{credentials}poll_initial_delay_ms = 300\npoll_interval_ms = 500\n\n\
         [printer]\ndriver = \"file\"\npath = \"{}\"\nwidth_mm = 80\ndrawer_kick = true\n\n\
         [[operators]]\nid = \"1001\"\nname = \"Kari\"\ncode_hash = \"{code}\"\nstock = true\n\n\
         [[operators]]\nid = \"1002\"\nname = \"Ola\"\ncode_hash = \"{code}\"\n",
        dir.path().join("luka.db").display(),
        dir.path().join("printer.bin").display(),
        // Both volunteers' code is 2468; Kari is the kioskansvarlig.
        code = luka::pin::PinHash::create("2468").unwrap().as_str(),
    );
    let config = Config::parse(&text, Path::new("ui-test.toml"), &|_| None).unwrap();
    let mut app = rt.block_on(App::start(config)).unwrap();
    {
        // As `luka` on the touchscreen does: the hub's catalogue once paired.
        let _entered = rt.enter();
        app.refresh_catalogue(Duration::from_millis(300));
    }
    let ui = luka::ui::init(Services::from_app(&app), rt.handle().clone(), None).unwrap();
    ui.window.show().unwrap();
    let t = Rc::new(T {
        ui,
        app,
        vipps,
        printer: dir.path().join("printer.bin"),
        shots: screenshot_dirs(),
    });
    let started = Instant::now();
    let fut = scenarios(t.clone());
    let job = slint::spawn_local(async move {
        let outcome = CatchUnwind(Box::pin(fut)).await;
        let _ = slint::quit_event_loop();
        outcome
    })
    .unwrap();
    slint::run_event_loop_until_quit().unwrap();
    if let Err(panic) = poll_now(job) {
        std::panic::resume_unwind(panic);
    }
    eprintln!("all scenarios passed in {:.1?}", started.elapsed());
    let t = Rc::try_unwrap(t).ok().expect("scenarios hold no T");
    drop(t.ui);
    rt.block_on(t.app.shutdown());
    if let Some(sim) = t.vipps {
        rt.block_on(sim.shutdown());
    }
}

impl T {
    pub fn page(&self) -> Page {
        self.ui.window.global::<AppState>().get_page()
    }

    pub fn sale(&self) -> SaleAdapter<'_> {
        self.ui.window.global::<SaleAdapter>()
    }

    pub fn pay(&self) -> PayAdapter<'_> {
        self.ui.window.global::<PayAdapter>()
    }

    pub fn result(&self) -> ResultAdapter<'_> {
        self.ui.window.global::<ResultAdapter>()
    }

    pub fn find(&self, label: &str) -> Option<ElementHandle> {
        ElementHandle::find_by_accessible_label(&self.ui.window, label).next()
    }

    pub fn find_value(&self, label: &str) -> Option<String> {
        self.find(label)
            .and_then(|e| e.accessible_value())
            .map(|v| v.to_string())
    }

    pub fn value(&self, label: &str) -> String {
        self.find_value(label)
            .unwrap_or_else(|| panic!("no value labelled {label:?} on page {:?}", self.page()))
    }

    pub fn tap(&self, label: &str) {
        self.find(label)
            .unwrap_or_else(|| panic!("nothing labelled {label:?} on page {:?}", self.page()))
            .invoke_accessible_default_action();
    }

    pub async fn tap_eventually(&self, label: &str) {
        self.wait(label, || self.find(label).is_some()).await;
        self.tap(label);
    }

    /// Polls `cond` on the event loop (other events keep flowing meanwhile).
    pub async fn wait(&self, what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !cond() {
            assert!(
                Instant::now() < deadline,
                "waited 30 s for {what}; page {:?}",
                self.page()
            );
            sleep(Duration::from_millis(40)).await;
        }
    }

    pub fn snapshot(&self) -> image::RgbaImage {
        let buf = self.ui.window.window().take_snapshot().unwrap();
        image::RgbaImage::from_raw(buf.width(), buf.height(), buf.as_bytes().to_vec()).unwrap()
    }

    pub fn decode_qr(&self) -> String {
        let img = image::DynamicImage::ImageRgba8(self.snapshot()).to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one QR code on the pay screen");
        grids[0].decode().expect("the QR on screen decodes").1
    }

    pub fn shoot(&self, name: &str) {
        let size = self.ui.window.window().size();
        self.shoot_at(name, size.width, size.height);
    }

    pub fn shoot_at(&self, name: &str, w: u32, h: u32) {
        let img = self.snapshot();
        assert_eq!((img.width(), img.height()), (w, h), "{name}");
        let colours: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
        assert!(
            colours.len() > 8,
            "{name} at {w}x{h} looks empty ({} colours)",
            colours.len()
        );
        // The committed set is 800×480 (the Pi's 7" display) and 1280×800.
        for dir in self
            .shots
            .iter()
            .filter(|d| w != 1024 || !d.ends_with("docs/screenshots"))
        {
            img.save(dir.join(format!("{name}-{w}x{h}.png"))).unwrap();
        }
    }
}

pub fn screenshot_dirs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut dirs = vec![target.join("ui-screenshots")];
    if std::env::var_os("LUKA_UPDATE_SCREENSHOTS").is_some() {
        dirs.push(root.join("docs/screenshots"));
    }
    for d in &dirs {
        std::fs::create_dir_all(d).unwrap();
    }
    dirs
}

/// A sleep that works on Slint's event loop (a single-shot Slint timer).
pub fn sleep(d: Duration) -> impl Future<Output = ()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    slint::Timer::single_shot(d, move || {
        let _ = tx.send(());
    });
    async move {
        let _ = rx.await;
    }
}

type Panic = Box<dyn std::any::Any + Send>;

struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: Future<Output = ()>> Future for CatchUnwind<F> {
    type Output = Result<(), Panic>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(())) => std::task::Poll::Ready(Ok(())),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(p) => std::task::Poll::Ready(Err(p)),
        }
    }
}

/// The scenario task has finished when the event loop quits; take its output.
fn poll_now<T>(job: slint::JoinHandle<T>) -> T {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut job = std::pin::pin!(job);
    match job.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the UI scenarios did not finish"),
    }
}
