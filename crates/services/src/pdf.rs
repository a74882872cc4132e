//! Printed documents as PDF (krilla): the mandate, the pass statements. A4, French, the
//! font of the State's design system embedded, tagged for screen readers (PDF/UA-1,
//! checked by krilla when the file is written), each copy from a new page.
//!
//! krilla draws lines, not paragraphs: this module breaks the text into lines, measuring
//! words with the same shaper (rustybuzz), and starts a new page when one is full.

use std::num::NonZeroU16;
use std::sync::Arc;

use krilla::Document;
use krilla::SerializeSettings;
use krilla::color::rgb;
use krilla::configure::{Accessibility, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, SpanTag, Tag, TagGroup, TagTree,
};
use krilla::text::{Font, TextDirection};

const REGULAR: &[u8] = include_bytes!("../../../data/polices/Marianne-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../../../data/polices/Marianne-Bold.ttf");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("police illisible")]
    Font,
    #[error("PDF non écrit : {0}")]
    Write(String),
}

/// What a copy is made of, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bloc {
    /// The copy's title (a level-1 heading, at the top of a new page).
    Titre(String),
    /// A paragraph; `gras`: in bold.
    Paragraphe { texte: String, gras: bool },
    /// An item of a bulleted list (consecutive items make one list).
    Element(String),
    /// A QR code of `donnees`, described by `alt`.
    Qr { donnees: String, alt: String },
}

struct Fonts {
    regular: Font,
    bold: Font,
    regular_face: Arc<Vec<u8>>,
    bold_face: Arc<Vec<u8>>,
}

/// The width of `text` at `size` in `face` (same shaping as krilla's `draw_text`).
fn width(face: &[u8], text: &str, size: f32) -> f32 {
    let Some(f) = rustybuzz::Face::from_slice(face, 0) else {
        return 0.0;
    };
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    let shaped = rustybuzz::shape(&f, &[], buffer);
    let units: i32 = shaped.glyph_positions().iter().map(|p| p.x_advance).sum();
    units as f32 / f.units_per_em() as f32 * size
}

/// `text` broken into lines of at most `max` points.
fn lines(face: &[u8], text: &str, size: f32, max: f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && width(face, &candidate, size) > max {
            out.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// Draws pages one after the other, keeping the tag tree in reading order.
struct Writer {
    document: Document,
    fonts: Fonts,
    tree: TagTree,
    /// One entry per copy (PDF/UA asks for an outline), to the page it starts on.
    outline: Outline,
    pages: usize,
}

impl Writer {
    /// One copy: its blocks, from the top of a new page (and more pages if needed).
    fn copy(&mut self, blocs: &[Bloc]) {
        if let Some(Bloc::Titre(t)) = blocs.first() {
            self.outline.push_child(OutlineNode::new(
                t.clone(),
                XyzDestination::new(self.pages, Point::from_xy(0.0, 0.0)),
            ));
        }
        self.pages += 1;
        let mut page = self
            .document
            .start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4"));
        let mut surface = page.surface();
        surface.set_fill(Some(Fill {
            paint: rgb::Color::new(22, 22, 22).into(),
            ..Fill::default()
        }));
        let mut y = MARGIN;
        let mut list: Option<TagGroup> = None;
        let mut article = TagGroup::new(Tag::Article);
        for bloc in blocs {
            if !matches!(bloc, Bloc::Element(_))
                && let Some(l) = list.take()
            {
                article.push(l);
            }
            let (text, size, bold, indent, gap) = match bloc {
                Bloc::Titre(t) => (t.as_str(), 16.0, true, 0.0, 10.0),
                Bloc::Paragraphe { texte, gras } => (texte.as_str(), 10.0, *gras, 0.0, 6.0),
                Bloc::Element(t) => (t.as_str(), 10.0, false, 14.0, 2.0),
                Bloc::Qr { donnees, alt } => {
                    let Ok(code) = qrcode::QrCode::new(donnees.as_bytes()) else {
                        continue;
                    };
                    let n = code.width();
                    let module = 3.0;
                    if y + n as f32 * module > PAGE_H - MARGIN {
                        drop(surface);
                        page.finish();
                        self.pages += 1;
                        page = self
                            .document
                            .start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4"));
                        surface = page.surface();
                        y = MARGIN;
                    }
                    let id = surface.start_tagged(ContentTag::Other);
                    let mut path = PathBuilder::new();
                    for (i, c) in code.to_colors().iter().enumerate() {
                        if *c == qrcode::Color::Dark {
                            let (col, row) = ((i % n) as f32, (i / n) as f32);
                            if let Some(r) = Rect::from_xywh(
                                MARGIN + col * module,
                                y + row * module,
                                module,
                                module,
                            ) {
                                path.push_rect(r);
                            }
                        }
                    }
                    if let Some(p) = path.finish() {
                        surface.draw_path(&p);
                    }
                    surface.end_tagged();
                    let mut figure = TagGroup::new(Tag::Figure(Some(alt.clone())));
                    figure.push(id);
                    article.push(figure);
                    y += n as f32 * module + 8.0;
                    continue;
                }
            };
            let (font, face) = if bold {
                (&self.fonts.bold, &self.fonts.bold_face)
            } else {
                (&self.fonts.regular, &self.fonts.regular_face)
            };
            let leading = size * 1.35;
            let mut group = match bloc {
                Bloc::Titre(_) => TagGroup::new(Tag::Hn(NonZeroU16::MIN, Some(text.to_string()))),
                _ => TagGroup::new(Tag::P),
            };
            let mut ids: Vec<Identifier> = Vec::new();
            if matches!(bloc, Bloc::Element(_)) {
                surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
                    ArtifactType::Layout,
                )));
                surface.draw_text(
                    Point::from_xy(MARGIN + 2.0, y + size),
                    font.clone(),
                    size,
                    "•",
                    false,
                    TextDirection::Auto,
                );
                surface.end_tagged();
            }
            for line in lines(face, text, size, PAGE_W - 2.0 * MARGIN - indent) {
                if y + leading > PAGE_H - MARGIN {
                    drop(surface);
                    page.finish();
                    self.pages += 1;
                    page = self
                        .document
                        .start_page_with(PageSettings::from_wh(PAGE_W, PAGE_H).expect("A4"));
                    surface = page.surface();
                    y = MARGIN;
                }
                ids.push(surface.start_tagged(ContentTag::Span(SpanTag::empty())));
                surface.draw_text(
                    Point::from_xy(MARGIN + indent, y + size),
                    font.clone(),
                    size,
                    &line,
                    false,
                    TextDirection::Auto,
                );
                surface.end_tagged();
                y += leading;
            }
            for id in ids {
                group.push(id);
            }
            if matches!(bloc, Bloc::Element(_)) {
                let mut body = TagGroup::new(Tag::LBody);
                body.push(group);
                let mut item = TagGroup::new(Tag::LI);
                item.push(body);
                list.get_or_insert_with(|| {
                    TagGroup::new(Tag::L(krilla::tagging::ListNumbering::Disc))
                })
                .push(item);
            } else {
                article.push(group);
            }
            y += gap;
        }
        if let Some(l) = list.take() {
            article.push(l);
        }
        drop(surface);
        page.finish();
        self.tree.push(article);
    }
}

/// A PDF of one or more copies (each from a new page), titled `titre`.
pub fn document(titre: &str, copies: &[Vec<Bloc>]) -> Result<Vec<u8>, PdfError> {
    let font = |bytes: &[u8]| Font::new(Arc::new(bytes.to_vec()).into(), 0).ok_or(PdfError::Font);
    let configuration = ConfigurationBuilder::new()
        .with_accessibility_validator(Accessibility::UA1)
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    };
    let mut w = Writer {
        document: Document::new_with(settings),
        fonts: Fonts {
            regular: font(REGULAR)?,
            bold: font(BOLD)?,
            regular_face: Arc::new(REGULAR.to_vec()),
            bold_face: Arc::new(BOLD.to_vec()),
        },
        tree: TagTree::new().with_lang(Some("fr-FR".to_string())),
        outline: Outline::new(),
        pages: 0,
    };
    for blocs in copies {
        w.copy(blocs);
    }
    let Writer {
        mut document,
        tree,
        outline,
        ..
    } = w;
    document.set_outline(outline);
    document.set_metadata(
        Metadata::new()
            .title(titre.to_string())
            .language("fr-FR".to_string())
            .creator("Relais".to_string()),
    );
    document.set_tag_tree(tree);
    document
        .finish()
        .map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_of_every_block_is_written() {
        let blocs = vec![
            Bloc::Titre("Mandat n° 1 — Exemplaire de l’usager".into()),
            Bloc::Paragraphe {
                texte: "Démarches :".into(),
                gras: true,
            },
            Bloc::Element("Social, santé : carte Vitale, chômage".into()),
            Bloc::Element("Papiers : carte d’identité".into()),
            Bloc::Paragraphe {
                texte: "Un long paragraphe « en français » qui doit passer à la ligne plusieurs fois, car il est bien plus large que la page A4 et ses marges de deux centimètres ; ".repeat(3),
                gras: false,
            },
            Bloc::Qr {
                donnees: "4aded1948913fb22cb0e86510365d4510c53722e3fe68667202b791865ff53ef".into(),
                alt: "Code QR".into(),
            },
        ];
        let bytes = document("Essai", &[blocs.clone(), blocs]).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
