//! Bar charts drawn on the server as inline SVG: no script, no CDN, readable on a phone.
//! Each row puts its label above its bar, so long Vietnamese labels never get cut.
//! Colours are presentation attributes (the page's CSP allows no inline style).

use minijinja::Value;

const WIDTH: i64 = 320;
const LABEL_ROOM: i64 = 18;
const BAR: i64 = 16;
const ROW: i64 = LABEL_ROOM + BAR + 10;
/// Room on the right for the number after the bar.
const NUMBER_ROOM: i64 = 40;

/// One part of a stacked bar: its legend label and colour.
pub struct Series<'a> {
    pub label: &'a str,
    pub colour: &'a str,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn open(title: &str, height: i64) -> String {
    let title = escape(title);
    format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" role=\"img\" aria-label=\"{title}\"><title>{title}</title>"
    )
}

fn width_of(value: i64, max: i64) -> i64 {
    if max <= 0 || value <= 0 {
        0
    } else {
        ((value * (WIDTH - NUMBER_ROOM)) / max).max(2)
    }
}

/// One horizontal bar per row (label, count), longest first as given.
pub fn bars(title: &str, rows: &[(String, i64)], colour: &str) -> Value {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let height = (rows.len() as i64 * ROW).max(ROW);
    let mut svg = open(title, height);
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = i as i64 * ROW;
        let w = width_of(*n, max);
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"13\" fill=\"#1f2933\">{}</text>\
             <rect x=\"0\" y=\"{}\" width=\"{w}\" height=\"{BAR}\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\" fill=\"#1f2933\">{n}</text>",
            y + 13,
            escape(label),
            y + LABEL_ROOM,
            escape(colour),
            w + 6,
            y + LABEL_ROOM + 13,
        ));
    }
    svg.push_str("</svg>");
    Value::from_safe_string(svg)
}

/// One stacked bar per row (label, a count per series), with a legend on top.
pub fn stacked(title: &str, series: &[Series<'_>], rows: &[(String, Vec<i64>)]) -> Value {
    let max = rows
        .iter()
        .map(|(_, parts)| parts.iter().sum::<i64>())
        .max()
        .unwrap_or(0);
    let legend_rows = series.len().div_ceil(2) as i64;
    let legend = legend_rows * 20 + 6;
    let height = legend + (rows.len() as i64 * ROW).max(ROW);
    let mut svg = open(title, height);
    for (i, s) in series.iter().enumerate() {
        let x = (i as i64 % 2) * (WIDTH / 2);
        let y = (i as i64 / 2) * 20;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1f2933\">{}</text>",
            y + 2,
            escape(s.colour),
            x + 16,
            y + 12,
            escape(s.label),
        ));
    }
    for (i, (label, parts)) in rows.iter().enumerate() {
        let y = legend + i as i64 * ROW;
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"13\" fill=\"#1f2933\">{}</text>",
            y + 13,
            escape(label)
        ));
        let mut x = 0;
        for (part, s) in parts.iter().zip(series) {
            let w = width_of(*part, max);
            if w > 0 {
                svg.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{BAR}\" fill=\"{}\"><title>{}: {part}</title></rect>",
                    y + LABEL_ROOM,
                    escape(s.colour),
                    escape(s.label),
                ));
            }
            x += w;
        }
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\" fill=\"#1f2933\">{}</text>",
            x + 6,
            y + LABEL_ROOM + 13,
            parts.iter().sum::<i64>()
        ));
    }
    svg.push_str("</svg>");
    Value::from_safe_string(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale_to_the_largest() {
        let svg = bars(
            "Câu hỏi",
            &[("Việc làm <b>".into(), 4), ("Khác".into(), 2)],
            "#1d4ed8",
        )
        .to_string();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("Việc làm &lt;b&gt;"));
        assert!(svg.contains("width=\"280\""));
        assert!(svg.contains("width=\"140\""));
        assert!(!svg.contains("style="));
    }

    #[test]
    fn stacked_parts_add_up_and_empty_charts_still_draw() {
        let series = [
            Series {
                label: "A",
                colour: "#15803d",
            },
            Series {
                label: "B",
                colour: "#b91c1c",
            },
        ];
        let svg = stacked("t", &series, &[("Sở".into(), vec![1, 3])]).to_string();
        assert!(svg.contains(">4</text>"));
        assert!(stacked("t", &series, &[]).to_string().ends_with("</svg>"));
        assert!(bars("t", &[], "#000").to_string().ends_with("</svg>"));
    }
}
