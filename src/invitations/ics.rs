//! The calendar event (RFC 5545) sent with an invitation: UTC times (no zone to get wrong),
//! the organizer, the venue, the personal link, and a reminder two hours before.

use icalendar::{Alarm, Calendar, Component, Event, EventLike, Property, Trigger};

use crate::dialogues::model::Dialogue;

pub struct IcsFacts<'a> {
    pub uid: &'a str,
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
    pub attendee_name: &'a str,
    pub attendee_email: &'a str,
    pub link: &'a str,
    pub reminder_text: &'a str,
}

/// The `.ics` text for one invitee.
pub fn invitation_event(dialogue: &Dialogue, facts: &IcsFacts<'_>) -> String {
    let mut organizer = Property::new("ORGANIZER", format!("mailto:{}", facts.organizer_email));
    organizer.add_parameter("CN", facts.organizer_name);
    let mut attendee = Property::new("ATTENDEE", format!("mailto:{}", facts.attendee_email));
    attendee.add_parameter("CN", facts.attendee_name);
    attendee.add_parameter("ROLE", "REQ-PARTICIPANT");
    attendee.add_parameter("RSVP", "FALSE");
    let event = Event::new()
        .uid(facts.uid)
        .summary(&dialogue.title)
        .description(&format!("{}\n{}", dialogue.host_unit, facts.link))
        .location(&dialogue.venue)
        .url(facts.link)
        .starts(dialogue.starts_at.and_utc())
        .ends(dialogue.ends_at.and_utc())
        .timestamp(dialogue.updated_at.and_utc())
        .append_property(organizer)
        .append_property(attendee)
        .alarm(Alarm::display(
            facts.reminder_text,
            Trigger::before_start(chrono::Duration::hours(2)),
        ))
        .done();
    let mut calendar = Calendar::new();
    calendar
        .append_property(Property::new("METHOD", "REQUEST"))
        .push(event);
    calendar.done().to_string()
}
