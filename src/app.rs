//! Builds the application: every route registered here, in one place; the job worker
//! beside the HTTP server, with its handlers, hooks and periodic tasks; errors rendered
//! once for the API (JSON) and the pages (HTML).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, get, web};
use serde::Serialize;
use tokio::sync::watch;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{OpenApi, ToSchema};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;
use crate::events::Event;
use crate::jobs::{JobHooks, JobWorker, PeriodicTask, email};
use crate::json::JSON_LIMIT;
use crate::mail::Mailer;
use crate::participants::auth::CodeLimiter;
use crate::participants::notify::Mailing;
use crate::ratelimit::FailureLimiter;
use crate::registrations::ops::RegistrationLimiter;
use crate::state::AppState;
use crate::{
    accounts, agencies, assignments, attendance, dialogues, html, invitations, live, minutes,
    personal, questions, registrations,
};

/// Every JSON endpoint under `/api/v1`, registered through utoipa so that the OpenAPI
/// document is generated from these same handlers and cannot drift.
fn api_v1(cfg: &mut ServiceConfig) {
    // What a hall of phones calls on the day comes first: the router tries each path
    // pattern in order, and every pattern with a `{…}` costs a regular-expression match
    // (about a tenth of a vote's time when votes came fortieth). No two patterns here match
    // the same path, so the order decides only the speed.
    cfg.service(questions::api::vote)
        .service(questions::api::unvote)
        .service(questions::api::submit)
        .service(questions::api::list)
        .service(live::api::events)
        .service(live::api::show)
        .service(personal::api::me)
        .service(accounts::api::login)
        .service(accounts::api::logout)
        .service(accounts::api::me)
        .service(accounts::api::create_user)
        .service(accounts::api::list_users)
        .service(accounts::api::password_link)
        .service(agencies::api::create)
        .service(agencies::api::list)
        .service(dialogues::api::create)
        .service(dialogues::api::list)
        .service(dialogues::api::show)
        .service(dialogues::api::edit)
        .service(dialogues::api::change_status)
        .service(invitations::api::add)
        .service(invitations::api::import)
        .service(invitations::api::list)
        .service(invitations::api::send)
        .service(invitations::api::resend)
        .service(invitations::api::reissue)
        .service(invitations::api::letters)
        .service(invitations::api::edit)
        .service(invitations::api::remove)
        .service(personal::api::rsvp)
        .service(personal::api::ticket_png)
        .service(registrations::api::self_register)
        .service(registrations::api::list)
        .service(personal::api::cancel)
        .service(registrations::api::check_in)
        .service(registrations::api::walk_in)
        .service(registrations::api::door_search_api)
        .service(registrations::api::undo_check_in)
        .service(registrations::api::admit_from_waitlist)
        .service(attendance::api::attendance)
        .service(attendance::api::sheet)
        .service(minutes::api::save)
        .service(minutes::api::pdf)
        .service(minutes::api::docx)
        .service(minutes::api::publish)
        .service(questions::api::show)
        .service(questions::api::edit)
        .service(questions::api::moderate)
        .service(questions::api::withdraw)
        .service(assignments::api::assign_one)
        .service(assignments::api::assign_batch)
        .service(assignments::api::list)
        .service(assignments::api::show)
        .service(assignments::api::decline)
        .service(assignments::api::respond)
        .service(assignments::api::approve)
        .service(assignments::api::return_answer)
        .service(assignments::api::export_csv)
        .service(assignments::api::overview)
        .service(live::api::set_current)
        .service(live::api::answer)
        .service(live::api::add_commitment);
}

/// Every HTML page.
///
/// actix's router tries the routes in this order and matches each path with a parameter by
/// a regular expression, so the pages everyone opens on the day (the public pages, the
/// participants' own) come first and a request for one of them does not try every staff
/// page's pattern before its own. The pages moved first share no path with another page;
/// among the staff pages the order is kept where it decides (`/staff/dialogues/new` before
/// `/staff/dialogues/{id}`).
fn pages(cfg: &mut web::ServiceConfig) {
    // Everyone, on the day.
    cfg.service(html::static_file)
        .service(dialogues::pages::public_page)
        .service(assignments::pages::public_queue)
        .service(personal::pages::personal)
        .service(personal::pages::queue_page)
        .service(personal::pages::vote_page)
        .service(personal::pages::ask_page)
        .service(personal::pages::withdraw_page)
        .service(personal::pages::rsvp_page)
        .service(personal::pages::cancel_page)
        .service(personal::pages::register_again_page)
        .service(personal::pages::ticket_page)
        .service(personal::pages::code_page)
        .service(live::pages::projector)
        .service(minutes::pages::public_pdf)
        .service(registrations::pages::register_form)
        .service(registrations::pages::register_submit)
        .service(registrations::pages::register_sent)
        .service(registrations::pages::privacy_page)
        .service(dialogues::pages::home)
        .service(html::switch_language);
    // Staff.
    cfg.service(live::pages::control_page)
        .service(live::pages::current_submit)
        .service(live::pages::answer_submit)
        .service(live::pages::floor_submit)
        .service(live::pages::commitment_submit)
        .service(accounts::pages::login_form)
        .service(accounts::pages::login_submit)
        .service(accounts::pages::logout)
        .service(accounts::pages::password_form)
        .service(accounts::pages::password_submit)
        .service(accounts::pages::users_page)
        .service(accounts::pages::users_create)
        .service(accounts::pages::users_password_link)
        .service(dialogues::pages::dashboard)
        .service(dialogues::pages::new_form)
        .service(dialogues::pages::create)
        .service(dialogues::pages::edit_form)
        .service(dialogues::pages::update)
        .service(dialogues::pages::confirm_status)
        .service(dialogues::pages::change_status)
        .service(agencies::pages::list)
        .service(agencies::pages::create)
        .service(invitations::pages::invitations_page)
        .service(invitations::pages::import_page)
        .service(invitations::pages::template_csv)
        .service(invitations::pages::send_page)
        .service(invitations::pages::resend_page)
        .service(invitations::pages::reissue_page)
        .service(invitations::pages::invitations_csv)
        .service(invitations::pages::resend_confirm)
        .service(invitations::pages::edit_page)
        .service(invitations::pages::edit_submit)
        .service(invitations::pages::remove_confirm)
        .service(invitations::pages::remove_page)
        .service(invitations::pages::letters_pdf)
        .service(registrations::pages::registrations_page)
        .service(registrations::pages::registrations_csv)
        .service(registrations::pages::door_page)
        .service(registrations::pages::door_check_in)
        .service(registrations::pages::door_undo)
        .service(registrations::pages::door_admit)
        .service(registrations::pages::door_search_page)
        .service(registrations::pages::walk_in_page)
        .service(attendance::pages::attendance_page)
        .service(attendance::pages::attendance_csv)
        .service(attendance::pages::sheet_pdf)
        .service(minutes::pages::minutes_page)
        .service(minutes::pages::save_page)
        .service(minutes::pages::publish_page)
        .service(minutes::pages::preview_pdf)
        .service(minutes::pages::preview_docx)
        .service(questions::pages::moderation_page)
        .service(questions::pages::moderate_page)
        .service(questions::pages::edit_page)
        .service(questions::pages::enter_page)
        .service(assignments::pages::board_page)
        .service(assignments::pages::assign_page)
        .service(assignments::pages::export_page)
        .service(assignments::pages::inbox)
        .service(assignments::pages::assignment_page)
        .service(assignments::pages::respond_page)
        .service(assignments::pages::decline_page)
        .service(assignments::pages::approve_page)
        .service(assignments::pages::return_page);
}

/// What a capability does when a job about one of its rows is done or fails for good.
fn job_hooks() -> JobHooks {
    let mut hooks = JobHooks::default();
    hooks
        .done
        .insert("invitation", invitations::ops::on_email_sent);
    hooks
        .failed
        .insert("invitation", invitations::ops::on_email_failed);
    hooks
}

/// Who reacts to which event: inside the transaction that emitted it (the waitlist takes
/// freed seats), and after it commits (the dialogue cache forgets what changed).
fn subscribe(state: &AppState, caches: Caches) {
    let templates = state.templates.clone();
    let settings = state.settings.clone();
    state.db.listen_in_transaction(Arc::new(move |conn, event| {
        let mailing = Mailing {
            templates: &templates,
            settings: &settings,
        };
        registrations::ops::on_event(conn, mailing, event)?;
        personal::ops::on_event(conn, mailing, event)
    }));
    state
        .db
        .listen_in_transaction(Arc::new(live::ops::on_event));
    state.db.bus().on_publish(move |event| match event {
        Event::DialogueChanged { dialogue_id } => {
            caches.dialogues.forget(dialogue_id);
            caches.forget_queue_of(dialogue_id);
        }
        Event::QuestionsChanged { dialogue_id } => caches.forget_queue_of(dialogue_id),
        _ => {}
    });
}

/// The short-lived copies of what everyone reads (one set for all workers), forgotten as
/// soon as this process changes what they show.
#[derive(Clone)]
struct Caches {
    dialogues: web::Data<dialogues::cache::DialogueCache>,
    pages: web::Data<html::SharedPages>,
    queues: web::Data<questions::api::PublicQueueCache>,
}

impl Caches {
    fn new() -> Caches {
        Caches {
            dialogues: web::Data::new(dialogues::cache::DialogueCache::default()),
            pages: web::Data::new(html::SharedPages::default()),
            queues: web::Data::new(questions::api::PublicQueueCache::default()),
        }
    }

    /// The dialogue's public pages (`/d/{id}…`, in each language) and queue answers.
    fn forget_queue_of(&self, dialogue_id: &str) {
        for lang in [crate::i18n::Lang::Vi, crate::i18n::Lang::En] {
            self.pages
                .0
                .forget_prefix(&format!("{}/d/{dialogue_id}", lang.code()));
        }
        self.queues.0.forget_prefix(&format!("{dialogue_id}/"));
    }
}

/// The work the job worker does on a timer. Each task runs in one write transaction when
/// the worker starts, then every `every`; it returns how many things it did, for the log.
///
/// Add new timed work here, as one more named task with its own interval — for example
/// due-date reminders for agency assignments, marking overdue assignments, and purging
/// personal data past its retention period.
fn periodic_tasks(state: &AppState) -> Vec<PeriodicTask> {
    let reminders = {
        let state = state.clone();
        PeriodicTask::new(
            "invitation_reminders",
            Duration::from_secs(60),
            move |conn| {
                // Reminders to accepted invitees before their dialogue starts.
                invitations::ops::queue_reminders(
                    conn,
                    Mailing::of(&state),
                    state.settings.reminder_lead,
                )
            },
        )
    };
    let due_dates = {
        let state = state.clone();
        PeriodicTask::new(
            "assignment_due_dates",
            Duration::from_secs(60),
            move |conn| {
                // A reminder to the agency a day before, then an overdue notice to the agency
                // and the list to the organizers.
                let reminded =
                    assignments::ops::queue_due_reminders(conn, &state.templates, &state.settings)?;
                let overdue = assignments::ops::queue_overdue_notices(
                    conn,
                    &state.templates,
                    &state.settings,
                )?;
                Ok(reminded + overdue)
            },
        )
    };
    let replay_log = PeriodicTask::new("live_replay_log", Duration::from_secs(3600), |conn| {
        live::ops::prune_replay_log(conn)
    });
    // Shared rate-limit counts (PostgreSQL) outlive their windows; an empty table elsewhere.
    let rate_limits = PeriodicTask::new(
        "rate_limit_counts",
        Duration::from_secs(600),
        crate::ratelimit::forget_old_counts,
    );
    vec![reminders, due_dates, replay_log, rate_limits]
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    status: &'static str,
    /// `sqlite` or `postgres`
    database: &'static str,
}

/// Liveness and the database in use; answers 503 when the database does not.
#[utoipa::path(tag = "system", responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorEnvelope)))]
#[get("/healthz")]
async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    use diesel::RunQueryDsl;
    state
        .db
        .read(|conn| {
            diesel::sql_query("SELECT 1")
                .execute(conn)
                .map_err(|e| AppError::Unavailable(e.to_string()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        database: state.db.backend().name(),
    }))
}

#[derive(Clone)]
struct OpenApiJson(Arc<String>);

/// This document: every endpoint with its request and response schemas.
#[utoipa::path(tag = "system", responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
#[get("/api/openapi.json")]
async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.as_str().to_string())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "doithoai",
        description = "Planning and running public dialogue conferences (hội nghị đối thoại). \
            Departures from the published API contract are listed in docs/API_NOTES.md.",
        license(name = "MIT")
    ),
    tags(
        (name = "system"), (name = "auth"), (name = "users"), (name = "agencies"), (name = "dialogues"),
        (name = "invitations"), (name = "registrations"), (name = "participants"),
        (name = "questions"), (name = "assignments"), (name = "live"), (name = "minutes")
    )
)]
struct ApiInfo;

/// The error statuses that come from the extractors rather than from a handler's own rules,
/// added to every operation they apply to (unless the handler documents them itself, with
/// its own codes):
///
/// - a bearer credential (`security`): 401 `unauthorized`;
/// - a JSON body (`ApiJson`): 400 `malformed_json`, 413, 415 and 422 `validation_failed`;
/// - a path id (`web::Path<XId>`): 404 `not_found`, also for an id that is not a UUID;
/// - `page`/`per_page` (`Paging`): 422 `validation_failed`;
/// - the database (every operation but this document): 503 `service_unavailable`.
fn document_common_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let params = op.parameters.clone().unwrap_or_default();
            let has = |place: ParameterIn, name: Option<&str>| {
                params
                    .iter()
                    .any(|p| p.parameter_in == place && name.is_none_or(|n| p.name == n))
            };
            let json_body = op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.contains_key("application/json"));
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut add = |status: &str, text: &str| {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(text));
            };
            if secured {
                add(
                    "401",
                    "`unauthorized`: no bearer credential, or one that is invalid, expired or revoked",
                );
            }
            if json_body {
                add("400", "`malformed_json`: the body is not JSON");
                add("413", "`payload_too_large`: the body is over 1 MiB");
                add(
                    "415",
                    "`unsupported_media_type`: a `Content-Type` other than JSON",
                );
                add(
                    "422",
                    "`validation_failed`: `fields` and `field_codes` name each refused field",
                );
            }
            if has(ParameterIn::Path, None) {
                add(
                    "404",
                    "`not_found`: no such id, or an id that is not a UUID",
                );
            }
            if has(ParameterIn::Query, Some("page")) || has(ParameterIn::Query, Some("per_page")) {
                add(
                    "422",
                    "`validation_failed`: `page` or `per_page` out of range",
                );
            }
            if path != "/api/openapi.json" {
                add(
                    "503",
                    "`service_unavailable`: the database did not answer; retry",
                );
            }
        }
    }
}

/// A response with the error envelope.
fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build(),
        )
        .into()
}

/// The API's routes by path template, to tell a wrong method (405 with `Allow`) from an
/// unknown path (404).
#[derive(Clone, Default)]
pub struct ApiRoutes(Arc<Vec<(Vec<String>, Vec<&'static str>)>>);

impl ApiRoutes {
    fn of(doc: &utoipa::openapi::OpenApi) -> ApiRoutes {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                let segments = path.split('/').map(str::to_string).collect();
                (segments, methods)
            })
            .collect();
        ApiRoutes(Arc::new(routes))
    }

    /// The methods of the route this path matches, if any.
    pub fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let wanted: Vec<&str> = path.split('/').collect();
        let mut found: Option<Vec<&'static str>> = None;
        for (segments, methods) in self.0.iter() {
            let fits = segments.len() == wanted.len()
                && segments.iter().zip(&wanted).all(|(template, actual)| {
                    template == actual
                        || (template.starts_with('{')
                            && template.ends_with('}')
                            && !actual.is_empty())
                });
            if fits {
                let list = found.get_or_insert_with(Vec::new);
                for m in methods {
                    if !list.contains(m) {
                        list.push(m);
                    }
                }
            }
        }
        found
    }
}

/// The OpenAPI document, collected from the registered handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, collected) = App::new()
        .into_utoipa_app()
        .service(healthz)
        .service(openapi_json)
        .service(utoipa_actix_web::scope("/api/v1").configure(api_v1))
        .split_for_parts();
    let mut doc = ApiInfo::openapi();
    doc.merge(collected);
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    document_common_errors(&mut doc);
    doc
}

/// Request spans without secrets: personal links carry a credential in the path and the
/// password link in the query, so logs get the route pattern, never the raw target.
struct RedactedSpans;

impl RootSpanBuilder for RedactedSpans {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "(no route)".into());
        tracing::info_span!("request", method = %request.method(), route = %route, request_id = %request_id, status = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        if let Ok(response) = outcome {
            span.record("status", response.status().as_u16());
        }
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// No route took the request: 405 with `Allow` when an API path exists with other methods,
/// else 404.
async fn no_route(
    req: actix_web::HttpRequest,
    routes: web::Data<ApiRoutes>,
) -> Result<HttpResponse, actix_web::Error> {
    let Some(allowed) = routes.allowed(req.path()) else {
        return Err(AppError::NotFound.into());
    };
    // `render_errors` renders the envelope in the reader's language and keeps `Allow`.
    let mut response = actix_web::ResponseError::error_response(&AppError::MethodNotAllowed);
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    Err(actix_web::error::InternalError::from_response(AppError::MethodNotAllowed, response).into())
}

/// Threads each worker may start for blocking work (queries, password hashes, PDFs).
///
/// Nearly all of that work waits for one of the pool's `db_pool_size` connections, so more
/// threads than connections only wait longer, each with its own stack and allocator arena.
/// actix-web's default (512 per process) lets a burst of clients start hundreds of threads;
/// beyond this bound blocking work queues, as it would have on the pool anyway. The margin
/// leaves room for the work that needs no connection.
fn blocking_threads_per_worker(db_pool_size: u32) -> usize {
    db_pool_size as usize + 4
}

/// The running application: HTTP server and job worker.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    worker: JobWorker,
    run_worker: bool,
    hub: Arc<live::hub::Hub>,
    /// On SQLite, the lock that keeps a second server off the same file (dropped on exit).
    _serving: Option<std::fs::File>,
}

impl Application {
    /// Opens the database (applying migrations), binds the listener and prepares the worker.
    pub fn build(settings: Settings) -> Result<Application, String> {
        // Before opening (and migrating): a second server on a SQLite file stops here.
        let serving = crate::db::lock_for_serving(&settings.database_url)?;
        let db = Db::open(&settings.database_url, settings.db_pool_size)?;
        // Other instances' changes reach this one's caches and worker (PostgreSQL only).
        db.listen_to_other_instances()?;
        let mailer = Mailer::from_settings(&settings)?;
        tracing::info!("{}", mailer.describe());
        let run_worker = settings.run_job_worker;
        let listener = TcpListener::bind(settings.bind).map_err(|e| {
            format!(
                "invalid setting DOITHOAI_BIND: cannot listen on {}: {e}",
                settings.bind
            )
        })?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let mut settings = settings;
        if !settings.base_url_explicit {
            // Bound to port 0 (tests, scripts): links must name the port actually in use.
            settings.base_url.set_port(Some(port)).ok();
        }
        let state = AppState::new(db.clone(), settings.clone())?;
        // One cache for all workers: built here, outside the per-worker closure.
        let caches = Caches::new();
        subscribe(&state, caches.clone());
        let hub = live::hub::Hub::new(db.clone(), settings.live_max_clients as usize);
        let live_hub = web::Data::new(live::api::LiveHub(hub.clone()));
        let code_limiter = web::Data::new(CodeLimiter(FailureLimiter::new(&db, "code")));
        let registration_limiter =
            web::Data::new(RegistrationLimiter::from_settings(&settings, &db));
        let registration_queue = web::Data::new(registrations::ops::registration_queue());
        let question_limiter = web::Data::new(questions::ops::QuestionLimiter::from_settings(
            &settings, &db,
        ));
        let public_links = web::Data::new(dialogues::view::PublicLinks(vec![
            minutes::pages::public_link,
        ]));
        let public_seats = web::Data::new(dialogues::view::PublicSeats(Some(
            registrations::ops::public_places,
        )));
        let people_to_tell = web::Data::new(dialogues::view::PeopleToTell(Some(
            registrations::store::count_to_tell,
        )));
        let agency_dialogues = web::Data::new(dialogues::view::AgencyDialogues(vec![
            assignments::store::dialogues_of_agency,
            live::store::dialogues_of_agency,
        ]));
        let mail_domain = settings
            .base_url
            .host_str()
            .unwrap_or("localhost")
            .to_string();
        let worker = JobWorker::new(db, settings.outbox_lease, settings.outbox_retry)
            .handle(
                email::KIND,
                email::handler(Arc::new(mailer), settings.mail_from.clone(), mail_domain),
            )
            .with_hooks(job_hooks())
            .with_periodic(periodic_tasks(&state));
        let document = openapi();
        let routes = web::Data::new(ApiRoutes::of(&document));
        let doc = serde_json::to_string(&document).map_err(|e| e.to_string())?;
        let doc = web::Data::new(OpenApiJson(Arc::new(doc)));
        let data = web::Data::new(state.clone());
        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .service(healthz)
                .service(openapi_json)
                .service(utoipa_actix_web::scope("/api/v1").configure(api_v1))
                .split_for_parts();
            app.app_data(data.clone())
                .app_data(doc.clone())
                .app_data(routes.clone())
                .app_data(caches.dialogues.clone())
                .app_data(caches.pages.clone())
                .app_data(caches.queues.clone())
                .app_data(live_hub.clone())
                .app_data(code_limiter.clone())
                .app_data(registration_limiter.clone())
                .app_data(registration_queue.clone())
                .app_data(question_limiter.clone())
                .app_data(public_links.clone())
                .app_data(public_seats.clone())
                .app_data(agency_dialogues.clone())
                .app_data(people_to_tell.clone())
                .app_data(web::PayloadConfig::new(JSON_LIMIT))
                .configure(pages)
                .default_service(web::to(no_route))
                .wrap(from_fn(crate::error::render_errors))
                .wrap(from_fn(crate::headers::security_headers))
                .wrap(from_fn(html::browser_cookie))
                .wrap(TracingLogger::<RedactedSpans>::new())
        })
        .listen(listener)
        .map_err(|e| e.to_string())?
        .shutdown_timeout(10)
        .worker_max_blocking_threads(blocking_threads_per_worker(settings.db_pool_size));
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        Ok(Application {
            port,
            server: server.run(),
            state,
            worker,
            run_worker,
            hub,
            _serving: serving,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops the server from outside (tests, embedding programs).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The job worker, for tests that drain it by hand.
    pub fn job_worker(&self) -> JobWorker {
        self.worker.clone()
    }

    /// Serves until SIGINT/SIGTERM, then lets the worker finish the job in hand.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = if self.run_worker {
            Some(tokio::spawn(self.worker.run(stop_rx.clone())))
        } else {
            None
        };
        let hub = tokio::spawn(self.hub.run(stop_rx.clone()));
        let served = self.server.await;
        stop_tx.send(true).ok();
        hub.await.ok();
        if let Some(worker) = worker {
            worker.await.ok();
        }
        served
    }
}
