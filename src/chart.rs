//! The chart `/stats` attaches: a server's days at a glance, drawn in memory with the
//! DejaVu Sans font bundled in the binary, so no system font or file is needed.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::store::stats::{CommunityStats, DayStats, start_of};

/// The chart's size in pixels.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 640;

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the chart's font could not be read")]
    Font,
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("encoding the chart as PNG: {0}")]
    Encode(#[from] png::EncodingError),
}

/// A PNG of the span's messages and active members, and of its joins, leaves and
/// steward's actions, one point a day.
pub fn activity_png(stats: &CommunityStats) -> Result<Vec<u8>, ChartError> {
    fonts()?;
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw(stats, &mut pixels).map_err(|e| ChartError::Draw(e.to_string()))?;
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // A chart is mostly flat colour: adaptive filtering and full compression keep it small.
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(png)
}

/// Registers the bundled font once per process.
fn fonts() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// One line of a panel: its name in the legend, its colour, and its value on a day.
type Series = (&'static str, RGBColor, fn(&DayStats) -> u64);

fn draw(stats: &CommunityStats, pixels: &mut [u8]) -> DrawResult {
    let root = BitMapBackend::with_buffer(pixels, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(HEIGHT / 2);
    let activity: [Series; 2] = [
        ("messages", RGBColor(0x34, 0x98, 0xDB), |d| d.messages),
        ("active members", RGBColor(0x2E, 0xCC, 0x71), |d| d.active),
    ];
    panel(
        &top,
        stats,
        "Messages and active members per day",
        &activity,
    )?;
    let membership: [Series; 3] = [
        ("joined", RGBColor(0x2E, 0xCC, 0x71), |d| d.joins),
        ("left", RGBColor(0x95, 0xA5, 0xA6), |d| d.leaves),
        ("steward's actions", RGBColor(0xE6, 0x7E, 0x22), |d| {
            d.actions
        }),
    ];
    panel(
        &bottom,
        stats,
        "Joins, leaves and steward's actions per day",
        &membership,
    )?;
    root.present()?;
    Ok(())
}

/// One panel: a line for each series, the days along the bottom.
fn panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    stats: &CommunityStats,
    title: &str,
    series: &[Series],
) -> DrawResult {
    let days = stats.days.len().max(1) as i64;
    let highest = series
        .iter()
        .flat_map(|(_, _, value)| stats.days.iter().map(value))
        .max()
        .unwrap_or(0);
    let top = (highest + highest / 10).max(5);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20).into_font().style(FontStyle::Bold))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(0..(days - 1).max(1), 0..top)?;
    let first = stats.days.first().map_or(0, |d| d.day);
    chart
        .configure_mesh()
        .x_labels(days.min(10) as usize)
        .x_label_formatter(&|i| month_day(first + i))
        .y_labels(6)
        .label_style(("sans-serif", 13))
        .draw()?;
    for (name, colour, value) in series {
        let points = stats
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| (i as i64, value(d)));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// `11-22` for a day since the epoch.
fn month_day(day: i64) -> String {
    start_of(day).rfc3339().chars().skip(5).take(5).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(days: i64) -> CommunityStats {
        CommunityStats {
            days: (0..days)
                .map(|i| DayStats {
                    day: 20_000 + i,
                    messages: (i as u64 * 37) % 500,
                    active: (i as u64 * 11) % 60,
                    joins: i as u64 % 7,
                    leaves: i as u64 % 3,
                    actions: i as u64 % 5,
                })
                .collect(),
            ..CommunityStats::default()
        }
    }

    /// The PNG's width and height, read back from the file.
    fn size_of(png: &[u8]) -> (u32, u32) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().expect("a PNG");
        let info = reader.info();
        (info.width, info.height)
    }

    #[test]
    fn a_chart_is_a_png_of_the_stated_size() {
        for days in [1, 7, 30, 90] {
            let png = activity_png(&span(days)).expect("drawn");
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
            assert_eq!(size_of(&png), (WIDTH, HEIGHT));
            assert!(png.len() < 200_000, "{} bytes", png.len());
        }
    }

    #[test]
    fn a_quiet_span_still_draws() {
        let png = activity_png(&CommunityStats::default()).expect("drawn");
        assert_eq!(size_of(&png), (WIDTH, HEIGHT));
    }

    #[test]
    fn days_are_labelled_by_month_and_day() {
        assert_eq!(month_day(20_000), "10-04");
    }
}
