//! A Slint platform for the screenshot test: one software-rendered window
//! of a chosen size and a small event loop (timers, `invoke_from_event_loop`,
//! quit), so the real till runs and every page can be photographed without
//! a display. Slint's testing backend draws no pixels unless built with its
//! unpublished `internal` feature, hence this.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{EventLoopProxy, Platform, WindowAdapter};
use slint::{EventLoopError, PlatformError};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
struct Shared {
    jobs: Arc<Mutex<VecDeque<Job>>>,
    quit: Arc<AtomicBool>,
    thread: std::thread::Thread,
}

pub struct SoftwarePlatform {
    window: Rc<MinimalSoftwareWindow>,
    shared: Shared,
}

impl SoftwarePlatform {
    pub fn install() {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        let shared = Shared {
            jobs: Arc::default(),
            quit: Arc::default(),
            thread: std::thread::current(),
        };
        slint::platform::set_platform(Box::new(SoftwarePlatform { window, shared }))
            .expect("the software platform is the first");
    }
}

impl Platform for SoftwarePlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }

    fn run_event_loop(&self) -> Result<(), PlatformError> {
        self.shared.quit.store(false, Ordering::SeqCst);
        loop {
            slint::platform::update_timers_and_animations();
            loop {
                let job = self.shared.jobs.lock().unwrap().pop_front();
                match job {
                    Some(job) => job(),
                    None => break,
                }
            }
            if self.shared.quit.load(Ordering::SeqCst) {
                return Ok(());
            }
            let wait = slint::platform::duration_until_next_timer_update()
                .unwrap_or(Duration::from_millis(20))
                .min(Duration::from_millis(20));
            std::thread::park_timeout(wait);
        }
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        Some(Box::new(self.shared.clone()))
    }
}

impl EventLoopProxy for Shared {
    fn quit_event_loop(&self) -> Result<(), EventLoopError> {
        self.quit.store(true, Ordering::SeqCst);
        self.thread.unpark();
        Ok(())
    }

    fn invoke_from_event_loop(&self, event: Job) -> Result<(), EventLoopError> {
        self.jobs.lock().unwrap().push_back(event);
        self.thread.unpark();
        Ok(())
    }
}
