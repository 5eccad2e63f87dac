//! The finances plot: treasury, 3 × treasury and SC outstanding over time, drawn as SVG by
//! `plotters` at build time (no JavaScript), labelled for screen readers.

use super::model::Point;
use crate::money::Amount;
use crate::time::format_date;
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height of the drawing, in SVG units (it scales to the page).
const SIZE: (u32, u32) = (760, 380);
/// Height of the strip above the plot that holds the legend, where it hides no line.
const LEGEND_HEIGHT: u32 = 32;
/// Space around the plot.
const MARGIN: u32 = 12;
/// Width of the y axis and its labels, left of the plot (the legend starts after it).
const Y_LABELS: u32 = 64;

/// What a line of the plot shows of a day's position.
type Value<'a> = dyn Fn(&Point) -> f64 + 'a;

fn euros(amount: Amount) -> f64 {
    amount.0 as f64 / 100.0
}

/// The SVG of the money position over `days`, with `alt` as its accessible name; `multiple`
/// is the policy's treasury multiple (3 for the 3x rule).
pub fn money_over_time(days: &[Point], multiple: Amount, alt: &str) -> Result<String> {
    let first = days.first().map_or(0, |p| p.day);
    // The last day's position holds through that day.
    let last = days.last().map_or(first, |p| p.day) + 1;
    let limit = |p: &Point| euros(p.treasury.times(multiple));
    let top = days.iter().map(|p| limit(p).max(euros(p.outstanding))).fold(1.0_f64, f64::max) * 1.1;
    let series: [(&str, RGBColor, Box<Value<'_>>); 3] = [
        ("EUR treasury", RGBColor(11, 83, 148), Box::new(|p| euros(p.treasury))),
        ("3 × treasury (SC limit)", RGBColor(120, 120, 120), Box::new(limit)),
        ("SC outstanding", RGBColor(180, 60, 20), Box::new(|p| euros(p.outstanding))),
    ];
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let fail = |e: &dyn std::fmt::Display| anyhow!("cannot draw the finances plot: {e}");
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let (legend, plot) = root.split_vertically(LEGEND_HEIGHT);
        let font = ("sans-serif", 14).into_font().color(&BLACK);
        let mut chart = ChartBuilder::on(&plot)
            .margin(MARGIN)
            .margin_top(0)
            .margin_right(48)
            .x_label_area_size(36)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(first..last, 0.0..top)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|day| format_date(*day))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("EUR / SC")
            .label_style(font.clone())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| fail(&e))?;
        // The legend in a row above the plot, from the plot's left edge.
        let middle = (LEGEND_HEIGHT / 2) as i32;
        let mut x = (MARGIN + Y_LABELS) as i32;
        for (name, colour, value) in &series {
            chart
                .draw_series(LineSeries::new(steps(days, value.as_ref()), colour.stroke_width(3)))
                .map_err(|e| fail(&e))?;
            let key = PathElement::new(vec![(x, middle), (x + 24, middle)], colour.stroke_width(3));
            legend.draw(&key).map_err(|e| fail(&e))?;
            let words = Text::new(*name, (x + 30, middle), font.clone().pos(Pos::new(HPos::Left, VPos::Center)));
            legend.draw(&words).map_err(|e| fail(&e))?;
            let (width, _) = legend.estimate_text_size(name, &font).map_err(|e| fail(&e))?;
            x += 30 + width as i32 + 28;
        }
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(labelled(&svg, alt))
}

/// A value as a step line: it holds from one day until the next day with rows, and the
/// last through its day.
fn steps(days: &[Point], value: &Value<'_>) -> Vec<(i64, f64)> {
    let mut out = Vec::with_capacity(days.len() * 2 + 1);
    for (i, p) in days.iter().enumerate() {
        if i > 0 {
            out.push((p.day, value(&days[i - 1])));
        }
        out.push((p.day, value(p)));
    }
    if let Some(last) = days.last() {
        out.push((last.day + 1, value(last)));
    }
    out
}

/// The SVG with `role="img"`, an accessible name and a `<title>`.
fn labelled(svg: &str, alt: &str) -> String {
    let alt = alt.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    match svg.find("<svg") {
        Some(at) => {
            let close = svg[at..].find('>').map_or(svg.len(), |i| at + i);
            format!(
                "{} role=\"img\" aria-label=\"{alt}\"{}<title>{alt}</title>{}",
                &svg[..close],
                ">",
                &svg[close + 1..]
            )
        }
        None => svg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plot_is_an_svg_with_an_accessible_name_and_its_axis_dates() {
        let days = [
            Point {
                day: 20_000,
                treasury: Amount::units(1000),
                outstanding: Amount::ZERO,
            },
            Point {
                day: 20_010,
                treasury: Amount::units(1200),
                outstanding: Amount::units(300),
            },
        ];
        let svg = money_over_time(&days, Amount::units(3), "Treasury & SC").unwrap();
        assert!(svg.contains("role=\"img\" aria-label=\"Treasury &amp; SC\""), "{}", &svg[..200]);
        assert!(svg.contains("<title>Treasury &amp; SC</title>"));
        assert!(svg.contains(&format_date(20_000)), "the x axis shows dates");
        assert_eq!(
            svg,
            money_over_time(&days, Amount::units(3), "Treasury & SC").unwrap(),
            "deterministic"
        );
    }
}
