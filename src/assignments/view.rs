//! How answers and the queue read to people: the overview charts and the public queue's
//! template values, shared by this capability's pages and the participant's page.

use minijinja::{Value, context};

use super::ops::{Overview, PublicQueue};
use crate::html::charts::{self, Series};
use crate::i18n::Lang;
use crate::questions::model::QueueSort;
use crate::questions::ops::QueueQuery;

pub const TOPIC_COLOUR: &str = "#1d4ed8";

/// The overview as two SVG charts: questions per topic, answers per agency by state.
pub fn overview_charts(overview: &Overview, lang: Lang) -> Value {
    let mut topics: Vec<(String, i64)> = overview
        .by_topic
        .iter()
        .filter(|t| t.count > 0)
        .map(|t| (lang.text(&format!("topic.{}", t.topic.as_str())), t.count))
        .collect();
    topics.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let published = lang.text("overview.published");
    let awaiting = lang.text("overview.awaiting_approval");
    let due = lang.text("overview.due");
    let overdue = lang.text("overview.overdue");
    let series = [
        Series {
            label: &published,
            colour: "#15803d",
        },
        Series {
            label: &awaiting,
            colour: "#b45309",
        },
        Series {
            label: &due,
            colour: "#2563eb",
        },
        Series {
            label: &overdue,
            colour: "#b91c1c",
        },
    ];
    let agencies: Vec<(String, Vec<i64>)> = overview
        .by_agency
        .iter()
        .map(|a| {
            (
                a.agency.clone(),
                vec![a.published, a.awaiting_approval, a.due, a.overdue],
            )
        })
        .collect();
    context! {
        has_topics => !topics.is_empty(),
        has_agencies => !agencies.is_empty(),
        topics => charts::bars(&lang.text("overview.by_topic"), &topics, TOPIC_COLOUR),
        agencies => charts::stacked(&lang.text("overview.by_agency"), &series, &agencies),
    }
}

pub fn sort_code(sort: QueueSort) -> &'static str {
    match sort {
        QueueSort::Votes => "votes",
        QueueSort::Recent => "recent",
        QueueSort::Oldest => "oldest",
        QueueSort::Topic => "topic",
    }
}

/// What `questions/queue.html` shows: the questions with answers, the sort and topic links
/// with counts, and the charts.
pub fn queue_context(queue: &PublicQueue, query: &QueueQuery, lang: Lang) -> Value {
    let topics: Vec<Value> = queue
        .overview
        .by_topic
        .iter()
        .filter(|t| t.count > 0)
        .map(|t| context! { code => t.topic.as_str(), count => t.count })
        .collect();
    let total: i64 = queue.overview.by_topic.iter().map(|t| t.count).sum();
    context! {
        entries => Value::from_serialize(&queue.entries),
        shown => queue.total,
        answered => queue.answered,
        total => total,
        page => queue.page,
        pages => queue.pages,
        sort => sort_code(query.sort),
        topic => query.topic.map(|t| t.as_str()),
        topics => topics,
        charts => overview_charts(&queue.overview, lang),
    }
}
