//! The UI bridge: the only module that imports Slint. Callbacks from the
//! `.slint` pages become kiosk commands; kiosk events become adapter
//! properties. It talks only to the kiosk, never to the store. Nothing here blocks the event loop: every SQL statement,
//! HTTP call or PIN hash runs on the tokio runtime ([`Ctx::background`])
//! and comes back with `upgrade_in_event_loop`.
//!
//! | file          | controls                                                  |
//! |---------------|-----------------------------------------------------------|
//! | `sale.rs`     | product tiles, free-amount keypad, cart                   |
//! | `pay.rs`      | the QR, countdown and live status; result screen          |
//! | `buttons.rs`  | physical GPIO buttons: "new sale" and "cancel"            |
//! | `cash.rs`     | cash given and change due                                 |
//! | `customer.rs` | Vipps sent to the customer's app: scanner keys, phone keypad |
//! | `organizer.rs`| PIN with lockout, takings, sales and refunds, backlog     |
//! | `reports.rs`  | X report, and the Z report with the counted cash          |
//! | `operators.rs`| who stands at the till: name, code, logout                |
//! | `hub.rs`      | "Klubbens hub": pairing with the club's hub, on-screen keyboard |
//! | `drawer.rs`   | "Åpne skuff": the drawer opened without a sale, a reason  |
//! | `status.rs`   | status bar (Vipps, printer, unsynced, clock), kiosk events|
//! | `day.rs`      | the kiosk's day data in words (pure `today`, `view`)      |
//! | `keypad.rs`   | pure keypad editing rules                                 |
//! | `text.rs`     | which catalogued sentence (`ui/words.slint`) to show      |
//! | `qr.rs`       | QR code → pixels                                          |

mod buttons;
mod card;
mod cash;
mod customer;
pub mod day;
mod drawer;
mod hub;
pub mod keypad;
mod operators;
mod organizer;
mod pay;
pub mod qr;
mod reports;
mod sale;
mod status;
mod stock;
pub mod text;
mod training;

use std::sync::{Arc, Mutex, MutexGuard};

use slint::ComponentHandle;

use crate::app::App;
use crate::config::{Config, Language};
use crate::domain::{Cart, Money, VatCode};
use crate::kiosk::{Kiosk, KioskEvent};
use crate::pin::{Lockout, PinHash};

/// The generated Slint types (`AppWindow`, the adapters and their structs).
pub mod generated {
    slint::include_modules!();
}
pub use generated::*;

/// What the UI needs from the running till.
#[derive(Clone)]
pub struct Services {
    /// The price list is the kiosk's ([`Kiosk::catalog`]): it changes when
    /// the club's hub sends a new one.
    pub kiosk: Kiosk,
    pub free_amount_vat: VatCode,
    /// `[till] card_terminal`: the "Kort" button.
    pub card_terminal: bool,
    pub training: bool,
    /// `None` in training: [`crate::pin::TRAINING_PIN`].
    pub pin_hash: Option<PinHash>,
    pub language: Language,
    pub result_time: std::time::Duration,
    pub merchant: crate::domain::Merchant,
}

impl Services {
    pub fn from_app(app: &App) -> Services {
        let c = &app.config;
        Services {
            kiosk: app.kiosk.clone(),
            free_amount_vat: c.free_amount_vat,
            card_terminal: c.card_terminal,
            training: c.is_training(),
            pin_hash: c.ui.pin_hash.clone(),
            language: c.ui.language,
            result_time: c.ui.result_time,
            merchant: c.merchant.clone(),
        }
    }
}

/// The sale on the pay screen.
#[derive(Debug, Clone)]
pub(crate) struct CurrentSale {
    pub id: i64,
    pub amount: Money,
    pub expires_at: Option<time::OffsetDateTime>,
    /// A training sale: its QR opens the simulator's phone page.
    pub training: bool,
}

/// UI-side state. Touched only from the event loop thread; the mutex makes
/// it `Send` so background completions can carry a [`Ctx`] back.
#[derive(Default)]
pub(crate) struct State {
    pub cart: Cart,
    pub keypad: String,
    pub cash_given: String,
    /// The card terminal's slip reference being typed on the card page.
    pub card_ref: String,
    /// The scanner's keys since its last Enter, on the customer page only.
    pub scan: String,
    /// The customer's phone number being typed on the customer page.
    pub phone: String,
    pub lang: Language,
    pub sale: Option<CurrentSale>,
    /// A sale is being written; events for it may arrive before its id.
    pub starting: bool,
    pub early: Vec<KioskEvent>,
    pub vipps_reachable: bool,
    pub pin_entry: String,
    pub lockout: Lockout,
    pub refund: Option<organizer::RefundDraft>,
    /// The sale last shown as "Betalt", whose receipt note the result page shows.
    pub last_paid: Option<i64>,
    /// Counted cash typed in the Z dialog.
    pub count_text: String,
    /// The volunteer's code being typed in the shift picker.
    pub operator_code: String,
}

/// Everything a callback needs, cheap to clone and `Send`.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub weak: slint::Weak<AppWindow>,
    pub rt: tokio::runtime::Handle,
    pub services: Arc<Services>,
    state: Arc<Mutex<State>>,
}

impl Ctx {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn kiosk(&self) -> &Kiosk {
        &self.services.kiosk
    }

    /// Runs `work` on a blocking thread of the runtime, then `done` on the
    /// event loop with its result. The one way the UI does slow things.
    pub fn background<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Kiosk) -> T + Send + 'static,
        done: impl FnOnce(&AppWindow, &Ctx, T) + Send + 'static,
    ) {
        let ctx = self.clone();
        self.rt.spawn_blocking(move || {
            let out = work(ctx.kiosk());
            let weak = ctx.weak.clone();
            let _ = weak.upgrade_in_event_loop(move |w| done(&w, &ctx, out));
        });
    }

    pub fn set_page(&self, w: &AppWindow, page: Page) {
        w.global::<AppState>().set_page(page);
    }
}

/// The built window with its controllers. Keep it alive while the event
/// loop runs: it owns the timers.
pub struct Ui {
    pub window: AppWindow,
    _timers: Vec<slint::Timer>,
}

/// Builds the window and wires every page to `services`. The Slint platform
/// must be chosen before (the default backend, or the testing backend).
pub fn init(
    services: Services,
    rt: tokio::runtime::Handle,
    buttons: Option<tokio::sync::mpsc::Receiver<crate::hardware::Button>>,
) -> Result<Ui, slint::PlatformError> {
    let window = AppWindow::new()?;
    let lang = services.language;
    let ctx = Ctx {
        weak: window.as_weak(),
        rt,
        services: Arc::new(services),
        state: Arc::new(Mutex::new(State {
            lang,
            vipps_reachable: true,
            ..State::default()
        })),
    };
    select_language(lang);
    sale::setup(&window, &ctx);
    pay::setup(&window, &ctx);
    cash::setup(&window, &ctx);
    organizer::setup(&window, &ctx);
    reports::setup(&window, &ctx);
    drawer::setup(&window, &ctx);
    card::setup(&window, &ctx);
    customer::setup(&window, &ctx);
    stock::setup(&window, &ctx);
    training::setup(&window, &ctx);
    operators::setup(&window, &ctx);
    hub::setup(&window, &ctx);
    let timers = status::setup(&window, &ctx);
    status::pump_events(&ctx);
    if let Some(rx) = buttons {
        buttons::pump(&ctx, rx);
    }
    Ok(Ui {
        window,
        _timers: timers,
    })
}

/// Bokmål is the source language of the `.slint` files; English is bundled.
pub(crate) fn select_language(lang: Language) {
    let code = match lang {
        Language::Nb => "",
        Language::En => "en",
    };
    if let Err(e) = slint::select_bundled_translation(code) {
        tracing::warn!(error = %e, "cannot switch the screen language");
    }
}

/// Runs the till with its touchscreen until the window closes or the
/// process gets SIGTERM / Ctrl-C, then stops the service gracefully.
pub fn run(config: Config) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .thread_name("luka-service")
        .build()?;
    let mut app = rt.block_on(App::start(config))?;
    {
        let _entered = rt.enter();
        app.refresh_catalogue(crate::app::REFRESH_EVERY);
    }
    let buttons = app.buttons.take();
    if let Some(sim) = &app.sim {
        tracing::warn!(
            phone = %sim.base_url(),
            "training mode: payments are simulated; approve them on the phone page the QR opens"
        );
    }
    let ui = init(Services::from_app(&app), rt.handle().clone(), buttons)
        .map_err(|e| anyhow::anyhow!("cannot open the screen: {e}. On a desktop run it inside a graphical session; on the Pi set SLINT_BACKEND=linuxkms and give the user the video, render and input groups"))?;
    let stop = {
        let _entered = rt.enter();
        crate::shutdown::StopSignal::install()?
    };
    rt.spawn(async move {
        let why = stop.wait().await;
        tracing::info!(signal = why, "stopping: closing the screen");
        let _ = slint::invoke_from_event_loop(|| {
            let _ = slint::quit_event_loop();
        });
    });
    ui.window.run()?;
    drop(ui);
    rt.block_on(app.shutdown());
    Ok(0)
}
