//! Pages for invitations: the organizer's invitee list (import, send, re-send, re-issue)
//! and the participant's personal page (`/p/{link token or code}`).

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use futures_util::StreamExt;
use minijinja::{Value, context};
use serde::Deserialize;

use super::model::{Invitation, InvitationStatus, InvitationView, LIST_STATUSES};
use super::ops::{import_csv, send_invitations};
use super::{ops, store};
use crate::audit::Actor;
use crate::auth::secrets::csrf_for;
use crate::auth::{Organizer, Staff};
use crate::db::{DialogueId, InvitationId};
use crate::dialogues;
use crate::dialogues::view::card;
use crate::error::{AppError, FieldErrors};
use crate::html::{BROWSER_COOKIE, PageForm, flash, listing, render, see_other, spreadsheet};
use crate::i18n::Lang;
use crate::participants::model::{Category, Participant, PersonInput, PersonQuery};
use crate::participants::notify::Mailing;
use crate::state::AppState;

const UPLOAD_LIMIT: usize = 8 * 1024 * 1024;

#[derive(Deserialize)]
pub struct ListQuery {
    done: Option<String>,
}

/// Rows per page of the invitee list.
const PER_PAGE: i64 = 200;

/// The invitee list's filters, with their words in `lang`.
fn filters(lang: Lang) -> listing::Filters {
    listing::Filters::of(lang, &LIST_STATUSES, PER_PAGE)
}

type Row = (Invitation, Participant, Option<String>);

/// The rows the query string asks for (searched and filtered), with the list's context.
fn listed(rows: Vec<Row>, query: &listing::ListQuery, lang: Lang) -> listing::Listed<Row> {
    let search = PersonQuery::parse(&query.q);
    listing::list(
        rows,
        query,
        &filters(lang),
        |(i, _, r)| i.list_status(r.as_deref()),
        |(_, p, _)| search.as_ref().is_some_and(|s| s.matches(p)),
    )
}

/// The page shows the invitee list; `status` and `page` from a caller (after an import)
/// replace those of the query string.
async fn list_page(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    dialogue_id: String,
    status: Option<InvitationStatus>,
    page: i64,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let mut query = listing::ListQuery::of(req);
    if let Some(status) = status {
        query.status = Some(status.as_str().to_string());
    }
    if page > 1 {
        query.page = page;
    }
    let (full, rows) =
        ops::list_for_staff(state, &dialogue_id, &staff.user.id, "invitations.view").await?;
    let total = rows.len();
    let count = |s: InvitationStatus| rows.iter().filter(|(i, _, _)| i.status() == s).count();
    let unsent = rows
        .iter()
        .filter(|(i, p, _)| i.status() == InvitationStatus::Pending && p.email.is_some())
        .count();
    // Sending's progress: the page refreshes itself while emails wait in the queue.
    let progress = context! {
        queued => count(InvitationStatus::Queued),
        sent => count(InvitationStatus::Sent),
        failed => count(InvitationStatus::Failed),
    };
    let list = listed(rows, &query, lang);
    let items: Vec<Value> = list.rows.iter().map(row_context).collect();
    let flash = flash::peek(req);
    let mut response = render(
        state,
        req,
        Some(staff),
        "staff/invitations.html",
        context! {
            ..extra,
            ..context! {
                d => card(&full, lang),
                items => items,
                total => total,
                unsent => unsent,
                progress => progress,
                l => list.context,
                print_view => query.print,
                flash => flash_notice(flash.as_ref(), lang),
                reissued => flash.as_ref().filter(|f| f["kind"] == "reissued"),
            }
        },
    )?;
    flash::forget(&mut response);
    Ok(response)
}

/// One row of the list as the template shows it.
fn row_context((invitation, person, registration): &Row) -> Value {
    let view = InvitationView::of(invitation, person);
    // The first of merged contexts wins: the list's status replaces the invitation's.
    context! {
        ..context! {
            status => invitation.list_status(registration.as_deref()),
            resend => invitation.was_sent() && person.email.is_some(),
            removable => registration.is_none() && ops::removable(invitation, false).is_ok(),
        },
        ..Value::from_serialize(&view),
    }
}

/// The words of a one-time notice left by the last post (re-send, edit, removal).
fn flash_notice(flash: Option<&serde_json::Value>, lang: Lang) -> Option<String> {
    let flash = flash?;
    let key = match flash["kind"].as_str()? {
        "resent" => "invitations.resent_to",
        "edited" => "invitations.edited",
        "removed" => "invitations.removed",
        _ => return None,
    };
    let name = flash["name"].as_str().unwrap_or_default();
    Some(lang.text(key).replace("{name}", name))
}

fn notice_for(done: Option<&str>, lang: Lang) -> Option<String> {
    let key = match done? {
        "imported" => "invitations.imported",
        "sent" => "invitations.queued",
        "resent" => "invitations.resent",
        _ => return None,
    };
    Some(lang.text(key))
}

#[get("/staff/dialogues/{id}/invitations")]
pub async fn invitations_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let extra = context! { notice => notice_for(query.done.as_deref(), lang) };
    list_page(&state, &req, &staff, id.into(), None, 1, extra).await
}

/// The list as a CSV file: the same search and filter as the page, every row. Organizers
/// only (the list holds groups and contact details); each export is audited.
#[get("/staff/dialogues/{id}/invitations.csv")]
pub async fn invitations_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let mut query = listing::ListQuery::of(&req);
    query.print = true;
    let (_, rows) = ops::list_for_staff(
        &state,
        &id.into_inner(),
        &staff.user.id,
        "invitations.export",
    )
    .await?;
    let list = listed(rows, &query, lang);
    let header = listing::headings(
        lang,
        &[
            "full_name",
            "code",
            "status",
            "category",
            "phone",
            "email",
            "address",
        ],
    );
    let lines: Vec<Vec<String>> = list
        .rows
        .iter()
        .map(|(i, p, r)| {
            vec![
                p.full_name.clone(),
                p.code.clone(),
                lang.text(&format!("list_status.{}", i.list_status(r.as_deref()))),
                lang.text(&format!("category.{}", p.category.as_str())),
                p.phone.clone().unwrap_or_default(),
                p.email.clone().unwrap_or_default(),
                p.address.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = spreadsheet::csv_bytes(&header, &lines)?;
    Ok(spreadsheet::download(bytes, "giay-moi.csv"))
}

/// Reads a multipart form: its CSRF token must match the browser's, the file is returned.
async fn read_upload(req: &HttpRequest, mut payload: Multipart) -> Result<Vec<u8>, AppError> {
    let mut csrf = String::new();
    let mut file = Vec::new();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest {
            code: "malformed_form",
            detail: None,
        })?;
        let name = field.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest {
                code: "malformed_form",
                detail: None,
            })?;
            if bytes.len() + chunk.len() > UPLOAD_LIMIT {
                return Err(AppError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).to_string(),
            "file" => file = bytes,
            _ => {}
        }
    }
    let expected = req.cookie(BROWSER_COOKIE).map(|c| csrf_for(c.value()));
    if expected.is_none_or(|token| csrf.is_empty() || token != csrf) {
        return Err(AppError::Csrf);
    }
    Ok(file)
}

#[post("/staff/dialogues/{id}/invitations/import")]
pub async fn import_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let file = read_upload(&req, payload).await?;
    let lang = Lang::of_request(&req);
    match import_csv(&state, &id, &file, lang, staff.user.id.clone()).await {
        Ok(result) => {
            let mut notice = format!("{} {}", lang.text("invitations.imported"), result.created);
            if !result.duplicates.is_empty() {
                let names: Vec<String> = result
                    .duplicates
                    .iter()
                    .map(|d| {
                        format!(
                            "{} ({} {})",
                            d.full_name,
                            lang.text("invitations.line"),
                            d.line
                        )
                    })
                    .collect();
                notice.push_str(&format!(
                    ". {}: {}",
                    lang.text("invitations.duplicates"),
                    names.join(", ")
                ));
            }
            list_page(
                &state,
                &req,
                &staff,
                id.into(),
                None,
                1,
                context! { notice => notice },
            )
            .await
        }
        Err(AppError::InvalidRows { rows, .. }) => {
            let extra = context! { problems => Value::from_serialize(&rows), problems_title => lang.text("error.invalid_csv") };
            let mut page = list_page(&state, &req, &staff, id.into(), None, 1, extra).await?;
            *page.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(other) => Err(other),
    }
}

/// The import template (`csv_import::template`), the same for every dialogue.
#[get("/staff/invitations/template.csv")]
pub async fn template_csv(Organizer(_staff): Organizer) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"mau-danh-sach-khach-moi.csv\"",
        ))
        .body(super::csv_import::template())
}

#[post("/staff/dialogues/{id}/invitations/send")]
pub async fn send_page(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    match send_invitations(&state, &id, staff.user.id).await {
        Ok(_) => Ok(see_other(&format!(
            "/staff/dialogues/{id}/invitations?done=sent"
        ))),
        // A draft (or a closed dialogue): the list says why, with the way to open it.
        Err(AppError::Conflict("dialogue_not_open")) => Ok(see_other(&format!(
            "/staff/dialogues/{id}/invitations?done=not_open"
        ))),
        Err(other) => Err(other),
    }
}

/// An invitation with its person, for a confirmation or the edit form.
async fn invitation_of(
    state: &AppState,
    id: &InvitationId,
) -> Result<(Invitation, Participant, dialogues::model::FullDialogue), AppError> {
    let id = id.to_string();
    state
        .db
        .read(move |conn| {
            let (invitation, person) = store::find(conn, &id)?.ok_or(AppError::NotFound)?;
            let full = dialogues::store::find_full(conn, &invitation.dialogue_id)?
                .ok_or(AppError::NotFound)?;
            Ok((invitation, person, full))
        })
        .await
}

fn list_path(dialogue_id: &str) -> String {
    format!("/staff/dialogues/{dialogue_id}/invitations")
}

/// A confirmation naming the person before a re-send or a removal. `blocked` replaces the
/// button with the reason when the step cannot be taken.
#[allow(clippy::too_many_arguments)]
fn confirm_page(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    full: &dialogues::model::FullDialogue,
    person: &Participant,
    invitation_id: &str,
    what: &str,
    blocked: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let name = &person.full_name;
    render(
        state,
        req,
        Some(staff),
        "staff/invitation_confirm.html",
        context! {
            d => card(full, lang),
            heading => lang.text(&format!("invitations.{what}_heading")).replace("{name}", name),
            explain => lang.text(&format!("invitations.{what}_explain")),
            button => lang.text(&format!("invitations.{what}_button")),
            id => invitation_id,
            what => what,
            name => name,
            email => &person.email,
            code => &person.code,
            blocked => blocked,
        },
    )
}

/// "Send again?" naming the person and the address; only for an invitation that was sent.
#[get("/staff/invitations/{id}/resend")]
pub async fn resend_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, AppError> {
    let (invitation, person, full) = invitation_of(&state, &id).await?;
    if !invitation.was_sent() || person.email.is_none() {
        return Err(AppError::Conflict("not_sent"));
    }
    confirm_page(
        &state,
        &req,
        &staff,
        &full,
        &person,
        &invitation.id,
        "resend",
        None,
    )
}

#[post("/staff/invitations/{id}/resend")]
pub async fn resend_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (invitation, _, _) = invitation_of(&state, &id).await?;
    // Only what was sent is sent again; the rest go with the list's "send" button.
    if !invitation.was_sent() {
        return Err(AppError::Conflict("not_sent"));
    }
    let st = state.get_ref().clone();
    let actor = Actor::User(staff.user.id);
    let (dialogue_id, name) = state
        .db
        .write(move |conn| {
            let done = ops::resend(conn, Mailing::of(&st), &id, &actor)?;
            let (_, person) = store::find(conn, &done.id)?.ok_or(AppError::NotFound)?;
            Ok((done.dialogue_id, person.full_name))
        })
        .await?;
    let notice = serde_json::json!({"kind": "resent", "name": name});
    Ok(flash::redirect_with(
        &req,
        &list_path(&dialogue_id),
        &notice,
    ))
}

/// A new code and link, shown once on the list after the redirect (from a one-time
/// notice): a refresh neither issues another nor shows this one again.
#[post("/staff/invitations/{id}/reissue")]
pub async fn reissue_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = Actor::User(staff.user.id.clone());
    let (person, token) = state
        .db
        .write(move |conn| ops::reissue(conn, &id, &actor))
        .await?;
    let notice = serde_json::json!({
        "kind": "reissued", "name": person.full_name, "code": person.code,
        "link": state.settings.link(&format!("/p/{token}")),
    });
    Ok(flash::redirect_with(
        &req,
        &list_path(&person.dialogue_id),
        &notice,
    ))
}

/// The edit form of an invitee, with `v` the values shown and `errors` per field.
fn edit_form(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    full: &dialogues::model::FullDialogue,
    invitation_id: &str,
    v: Value,
    errors: Value,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(req);
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    render(
        state,
        req,
        Some(staff),
        "staff/invitation_edit.html",
        context! {
            d => card(full, lang), id => invitation_id, v => v, errors => errors,
            categories => categories,
        },
    )
}

#[get("/staff/invitations/{id}/edit")]
pub async fn edit_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, AppError> {
    let (invitation, p, full) = invitation_of(&state, &id).await?;
    let v = context! {
        full_name => &p.full_name, email => &p.email, phone => &p.phone,
        category => p.category.as_str(), address => &p.address,
    };
    edit_form(&state, &req, &staff, &full, &invitation.id, v, context! {})
}

#[post("/staff/invitations/{id}/edit")]
pub async fn edit_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
    form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let input = PersonInput {
        full_name: form.get("full_name").into(),
        email: form.opt("email"),
        phone: form.opt("phone"),
        category: form.get("category").into(),
        address: form.opt("address"),
        language: None,
    };
    let mut errors = FieldErrors::new();
    let person = input.parse("", &mut errors);
    let outcome = match person {
        Some(person) if errors.is_empty() => {
            let actor = Actor::User(staff.user.id.clone());
            let target = id.clone();
            state
                .db
                .write(move |conn| ops::edit_invitee(conn, &target, person, &actor))
                .await
        }
        _ => Err(AppError::Validation(errors)),
    };
    match outcome {
        Ok((invitation, person)) => {
            let notice = serde_json::json!({"kind": "edited", "name": person.full_name});
            Ok(flash::redirect_with(
                &req,
                &list_path(&invitation.dialogue_id),
                &notice,
            ))
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let (_, _, full) = invitation_of(&state, &id).await?;
            let envelope = e.envelope(lang, None).error;
            let v = context! {
                full_name => form.get("full_name"), email => form.get("email"),
                phone => form.get("phone"), category => form.get("category"),
                address => form.get("address"),
                error => envelope.fields.is_empty().then_some(&envelope.message),
            };
            let errors = Value::from_serialize(&envelope.fields);
            let page = edit_form(&state, &req, &staff, &full, &id, v, errors)?;
            Ok(crate::html::with_status(
                page,
                actix_web::ResponseError::status_code(&e),
            ))
        }
        Err(other) => Err(other),
    }
}

/// "Remove from the list?" naming the person, or why they cannot be removed.
#[get("/staff/invitations/{id}/remove")]
pub async fn remove_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
) -> Result<HttpResponse, AppError> {
    let (invitation, person, full) = invitation_of(&state, &id).await?;
    let participant_id = person.id.to_string();
    let taken_part = state
        .db
        .read(move |conn| Ok(store::has_taken_part(conn, &participant_id)?))
        .await?;
    let lang = Lang::of_request(&req);
    let blocked = ops::removable(&invitation, taken_part)
        .err()
        .map(|e| lang.text(&format!("error.{}", e.code())));
    confirm_page(
        &state,
        &req,
        &staff,
        &full,
        &person,
        &invitation.id,
        "remove",
        blocked,
    )
}

#[post("/staff/invitations/{id}/remove")]
pub async fn remove_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<InvitationId>,
    _form: PageForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = Actor::User(staff.user.id.clone());
    let person = state
        .db
        .write(move |conn| ops::remove_invitee(conn, &id, &actor))
        .await?;
    let notice = serde_json::json!({"kind": "removed", "name": person.full_name});
    Ok(flash::redirect_with(
        &req,
        &list_path(&person.dialogue_id),
        &notice,
    ))
}

/// The printed letters, downloaded from the invitee list (`?only=without_email` or all).
#[get("/staff/dialogues/{id}/invitations/letters.pdf")]
pub async fn letters_pdf(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
    query: web::Query<super::api::LettersQuery>,
) -> Result<HttpResponse, AppError> {
    let only = query.parse()?;
    let bytes = ops::letters_pdf(&state, &id.into_inner(), only, &staff.user.id).await?;
    Ok(crate::pdf::response(bytes, "giay-moi.pdf", false))
}
