//! Page and email templates (minijinja), embedded in the binary.
//!
//! One engine serves pages and emails. Every file under assets/templates is listed in
//! `TEMPLATES`; a test fails when a file is added without being listed.

use std::sync::Arc;

use minijinja::{Environment, State, Value};

use crate::error::AppError;
use crate::i18n::Lang;

macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../assets/templates/", $path)))),*]
    };
}

pub const TEMPLATES: &[(&str, &str)] = embedded![
    "base.html",
    "pager.html",
    "error.html",
    "home.html",
    "dialogue.html",
    "contact.html",
    "seats.html",
    "privacy.html",
    "login.html",
    "password_setup.html",
    "staff/dashboard.html",
    "staff/dialogue_form.html",
    "staff/dialogue_status.html",
    "staff/dialogue_state.html",
    "staff/agencies.html",
    "staff/users.html",
    "staff/dialogue_tabs.html",
    "staff/invitations.html",
    "staff/invitation_confirm.html",
    "staff/invitation_edit.html",
    "staff/list_tools.html",
    "staff/registrations.html",
    "staff/door.html",
    "staff/attendance.html",
    "staff/minutes.html",
    "participant/code.html",
    "participant/home.html",
    "questions/queue.html",
    "questions/overview.html",
    "staff/questions.html",
    "staff/assignment_board.html",
    "staff/assignments.html",
    "staff/assignment.html",
    "live/control.html",
    "live/projector.html",
    "register.html",
    "register_sent.html",
    "email/password_setup/subject.txt",
    "email/password_setup/body.txt",
    "email/password_setup/body.html",
    "email/invitation/subject.txt",
    "email/invitation/body.txt",
    "email/invitation/body.html",
    "email/registration/subject.txt",
    "email/registration/body.txt",
    "email/registration/body.html",
    "email/reminder/subject.txt",
    "email/reminder/body.txt",
    "email/reminder/body.html",
    "email/dialogue_update/subject.txt",
    "email/dialogue_update/body.txt",
    "email/dialogue_update/body.html",
    "email/minutes/subject.txt",
    "email/minutes/body.txt",
    "email/minutes/body.html",
    "email/question/subject.txt",
    "email/question/body.txt",
    "email/question/body.html",
    "email/agency_notice/subject.txt",
    "email/agency_notice/body.txt",
    "email/agency_notice/body.html",
    "email/organizer_notice/subject.txt",
    "email/organizer_notice/body.txt",
    "email/organizer_notice/body.html",
];

#[derive(Clone)]
pub struct Templates(Arc<Environment<'static>>);

/// `t("key")` in a template: the message in the page's language.
fn translate(state: &State, key: &str) -> String {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default();
    lang.text(key)
}

/// `{{ at|moment }}`: an RFC 3339 time (already in the dialogue's zone) written for people,
/// "14:00, Thứ Hai, 30/11/2026"; anything else is shown as it is.
fn moment(state: &State, at: &str) -> String {
    use chrono::{Datelike, Timelike};
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(at) else {
        return at.to_string();
    };
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default();
    let weekday = lang.text(&format!(
        "date.weekday_{}",
        t.weekday().num_days_from_monday()
    ));
    format!(
        "{:02}:{:02}, {weekday}, {:02}/{:02}/{}",
        t.hour(),
        t.minute(),
        t.day(),
        t.month(),
        t.year()
    )
}

impl Templates {
    pub fn load() -> Result<Templates, String> {
        let mut env = Environment::new();
        // Chainable: a missing optional value (a notice, a field error) renders as nothing.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        env.add_function("t", translate);
        env.add_filter("moment", moment);
        Ok(Templates(Arc::new(env)))
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, AppError> {
        self.0
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| AppError::unexpected(format!("rendering {name}: {e:#}")))
    }
}

/// A rendered email: subject, plain text and HTML.
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Templates {
    /// Renders `email/<name>/{subject.txt, body.txt, body.html}` with `lang` in the context.
    pub fn email(&self, name: &str, ctx: Value) -> Result<RenderedEmail, AppError> {
        let part = |file: &str| self.render(&format!("email/{name}/{file}"), ctx.clone());
        Ok(RenderedEmail {
            subject: part("subject.txt")?.trim().replace(['\r', '\n'], " "),
            text: part("body.txt")?,
            html: part("body.html")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_is_embedded_and_parses() {
        Templates::load().unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/templates");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    on_disk.push(
                        path.strip_prefix(&root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        for file in on_disk {
            assert!(
                TEMPLATES.iter().any(|(name, _)| *name == file),
                "{file} is not listed in TEMPLATES"
            );
        }
    }
}
