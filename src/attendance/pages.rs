//! The attendance dashboard page.

use actix_web::{HttpRequest, HttpResponse, get, web};
use minijinja::{Value, context};

use super::ops::{Attendee, LIST_STATUSES, attendance_of, people_of};
use crate::auth::{Organizer, Staff};
use crate::db::DialogueId;
use crate::dialogues;
use crate::dialogues::model::FullDialogue;
use crate::dialogues::view::card;
use crate::error::AppError;
use crate::html::{listing, render, spreadsheet};
use crate::i18n::Lang;
use crate::participants::model::PersonQuery;
use crate::state::AppState;

/// Rows per page of the attendance list.
const PER_PAGE: i64 = 200;

/// The people of the dialogue after the query string's search and filter.
async fn listed(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    id: &str,
    action: &'static str,
) -> Result<(FullDialogue, listing::Listed<Attendee>, listing::ListQuery), AppError> {
    let lang = Lang::of_request(req);
    let query = listing::ListQuery::for_action(req, action);
    let (full, people) = people_of(state, id, &staff.user.id, action).await?;
    let filters = listing::Filters::of(lang, &LIST_STATUSES, PER_PAGE);
    let search = PersonQuery::parse(&query.q);
    let list = listing::list(
        people,
        &query,
        &filters,
        |a| a.status,
        |a| search.as_ref().is_some_and(|s| s.matches(&a.person)),
    );
    Ok((full, list, query))
}

/// When someone was checked in, in the dialogue's zone ("" when not).
fn checked_in_at(full: &FullDialogue, a: &Attendee, lang: Lang) -> String {
    a.checked_in_at
        .map(|t| dialogues::view::moment(&full.dialogue, t, lang))
        .unwrap_or_default()
}

#[get("/staff/dialogues/{id}/attendance")]
pub async fn attendance_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lang = Lang::of_request(&req);
    let counts = attendance_of(&state, &id).await?;
    let (full, list, query) = listed(&state, &req, &staff, &id, "attendance.view").await?;
    let people: Vec<Value> = list
        .rows
        .iter()
        .map(|a| {
            context! {
                full_name => &a.person.full_name, category => a.person.category.as_str(),
                code => &a.person.code, phone => &a.person.phone, status => a.status,
                checked_in_at => checked_in_at(&full, a, lang),
            }
        })
        .collect();
    render(
        &state,
        &req,
        Some(&staff),
        "staff/attendance.html",
        context! {
            d => card(&full, lang), a => Value::from_serialize(&counts), people => people,
            l => list.context, print_view => query.print,
        },
    )
}

/// The attendance list as a CSV file (the page's search and filter, every row); for
/// organizers, audited.
#[get("/staff/dialogues/{id}/attendance.csv")]
pub async fn attendance_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of_request(&req);
    let id = id.into_inner();
    let (full, list, _) = listed(&state, &req, &staff, &id, "attendance.export").await?;
    let header = listing::headings(
        lang,
        &[
            "full_name",
            "code",
            "status",
            "checked_in_at",
            "category",
            "phone",
            "email",
        ],
    );
    let lines: Vec<Vec<String>> = list
        .rows
        .iter()
        .map(|a| {
            vec![
                a.person.full_name.clone(),
                a.person.code.clone(),
                lang.text(&format!("list_status.{}", a.status)),
                checked_in_at(&full, a, lang),
                lang.text(&format!("category.{}", a.person.category.as_str())),
                a.person.phone.clone().unwrap_or_default(),
                a.person.email.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = spreadsheet::csv_bytes(&header, &lines)?;
    Ok(spreadsheet::download(bytes, "tham-du.csv"))
}

/// The sign-in sheet, downloaded from the attendance page.
#[get("/staff/dialogues/{id}/attendance-sheet.pdf")]
pub async fn sheet_pdf(
    state: web::Data<AppState>,
    Organizer(staff): Organizer,
    id: web::Path<DialogueId>,
) -> Result<HttpResponse, AppError> {
    let bytes = super::ops::sheet_pdf(&state, &id.into_inner(), &staff.user.id).await?;
    Ok(crate::pdf::response(bytes, "danh-sach-ky-ten.pdf", false))
}
