//! Bounded HTML parsing: html5ever may create far more elements than a page spells out (the
//! HTML spec re-opens every unclosed formatting element after each block, so a few hundred
//! kilobytes can ask for millions of nodes). The tree is built through a sink that stops
//! creating real nodes at a cap, and the input stops being fed once it is reached.

use std::{
    borrow::Cow,
    cell::{Cell, RefCell},
    collections::{HashMap, HashSet},
    panic::{AssertUnwindSafe, catch_unwind},
};

use dom_query::{Document, NodeId};
use html5ever::{
    Attribute, ParseOpts, QualName,
    interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink},
    tendril::{StrTendril, TendrilSink},
    tree_builder::TreeBuilderOpts,
};

/// Input fed to the parser between two checks of the cap.
const CHUNK: usize = 512;
/// Elements made outside the tree past the cap, each distinct so the tree builder's own
/// bookkeeping (which compares nodes) stays consistent; past this many they share one node.
const MAX_SPARE: usize = 250_000;
/// Most attributes on one tag: html5ever checks each new attribute against every earlier
/// one of its tag, so a tag with 400,000 attributes takes minutes to tokenize.
pub const MAX_ATTRIBUTES: usize = 1000;

/// Why a document was not built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TooComplex {
    /// More elements than the cap (as the parser would build them, not as written).
    #[error("the page builds more than {0} elements")]
    Elements(usize),
    /// Elements nested deeper than the cap.
    #[error("the page nests elements more than {0} deep")]
    Depth(usize),
    /// A tag with more attributes than [`MAX_ATTRIBUTES`].
    #[error("a tag of the page has more than {0} attributes")]
    Attributes(usize),
}

/// Parses `html` into a document of at most `max_elements` elements nested at most
/// `max_depth` deep.
pub fn parse(html: &str, max_elements: usize, max_depth: usize) -> Result<Document, TooComplex> {
    if most_attributes(html.as_bytes()) > MAX_ATTRIBUTES {
        return Err(TooComplex::Attributes(MAX_ATTRIBUTES));
    }
    let sink = CappedSink {
        doc: Document::default(),
        created: Cell::new(0),
        max: max_elements,
        spares: RefCell::new(HashSet::new()),
        shared_spare: RefCell::new(None),
        depths: RefCell::new(HashMap::new()),
        max_depth,
        too_deep: Cell::new(false),
    };
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts { scripting_enabled: false, ..Default::default() },
        ..Default::default()
    };
    // Past the cap the tree builder works on nodes outside the tree; should its bookkeeping
    // still trip over them (an arithmetic panic deep in html5ever), the page is too complex,
    // which is what the cap had already decided.
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let mut parser = html5ever::parse_document(sink, opts);
        let mut rest = html;
        while !rest.is_empty() {
            // html5ever scans its stack of open elements for many tags: stop feeding a page as
            // soon as it is too deep too, or 100,000 nested elements take minutes.
            if parser.tokenizer.sink.sink.over() || parser.tokenizer.sink.sink.too_deep.get() {
                break;
            }
            let mut end = rest.len().min(CHUNK);
            while !rest.is_char_boundary(end) {
                end += 1;
            }
            parser.process(StrTendril::from_slice(&rest[..end]));
            rest = &rest[end..];
        }
        parser.finish()
    }));
    let Ok((doc, over, too_deep)) = parsed else {
        return Err(TooComplex::Elements(max_elements));
    };
    if over {
        return Err(TooComplex::Elements(max_elements));
    }
    if too_deep || depth_exceeds(&doc, max_depth) {
        return Err(TooComplex::Depth(max_depth));
    }
    Ok(doc)
}

/// The most attributes on one start tag, by a lexical scan that follows the tokenizer's
/// main states (tags, quoted values, comments, raw text) closely enough to bound its work.
fn most_attributes(html: &[u8]) -> usize {
    let find = |from: usize, needle: &[u8]| {
        html.get(from..)
            .and_then(|rest| rest.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)))
            .map_or(html.len(), |at| from + at + needle.len())
    };
    let space = |b: u8| b.is_ascii_whitespace();
    let (mut i, mut most) = (0, 0);
    while let Some(at) = html.get(i..).and_then(|rest| rest.iter().position(|&b| b == b'<')) {
        i += at + 1;
        if html[i..].starts_with(b"!--") {
            i = find(i + 3, b"-->");
            continue;
        }
        // End tags count too: the tokenizer reads (and checks) their attributes as well.
        let end_tag = html.get(i) == Some(&b'/') && html.get(i + 1).is_some_and(u8::is_ascii_alphabetic);
        if end_tag {
            i += 1;
        }
        if !html.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let name_start = i;
        while i < html.len() && !space(html[i]) && html[i] != b'>' && html[i] != b'/' {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        let mut attributes = 0;
        loop {
            while i < html.len() && (space(html[i]) || html[i] == b'/') {
                i += 1;
            }
            if i >= html.len() || html[i] == b'>' {
                break;
            }
            attributes += 1;
            while i < html.len() && !space(html[i]) && !matches!(html[i], b'=' | b'>' | b'/') {
                i += 1;
            }
            while i < html.len() && space(html[i]) {
                i += 1;
            }
            if html.get(i) == Some(&b'=') {
                i += 1;
                while i < html.len() && space(html[i]) {
                    i += 1;
                }
                match html.get(i) {
                    Some(&quote @ (b'"' | b'\'')) => i = find(i + 1, &[quote]),
                    _ => {
                        while i < html.len() && !space(html[i]) && html[i] != b'>' {
                            i += 1;
                        }
                    }
                }
            }
        }
        most = most.max(attributes);
        // Raw text: what follows these tags is not markup until their end tag.
        if !end_tag
            && matches!(
                name.as_slice(),
                b"script" | b"style" | b"textarea" | b"title" | b"xmp" | b"iframe" | b"noembed"
            )
        {
            let mut end = b"</".to_vec();
            end.extend_from_slice(&name);
            i = find(i, &end);
        }
    }
    most
}

/// Walks the tree without recursion, so depth itself cannot overflow the stack here.
fn depth_exceeds(doc: &Document, max_depth: usize) -> bool {
    let mut stack = vec![(doc.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > max_depth {
            return true;
        }
        let mut child = node.first_child();
        while let Some(c) = child {
            if c.is_element() {
                stack.push((c, depth + 1));
            }
            child = c.next_sibling();
        }
    }
    false
}

/// dom_query's own sink, with a cap on elements: past it, every new element is a spare node
/// outside the tree, and whatever the parser does with it is ignored. It also notes
/// how deep elements are appended, so parsing can stop early on a too-deep page.
struct CappedSink {
    doc: Document,
    created: Cell<usize>,
    max: usize,
    spares: RefCell<HashSet<NodeId>>,
    shared_spare: RefCell<Option<NodeId>>,
    depths: RefCell<HashMap<NodeId, usize>>,
    max_depth: usize,
    too_deep: Cell<bool>,
}

impl CappedSink {
    fn over(&self) -> bool {
        self.created.get() > self.max
    }

    fn is_spare(&self, node: &NodeId) -> bool {
        self.spares.borrow().contains(node)
    }

    fn involves_spare(&self, node: &NodeId, child: &NodeOrText<NodeId>) -> bool {
        self.is_spare(node) || matches!(child, NodeOrText::AppendNode(c) if self.is_spare(c))
    }

    /// Records that `child` sits `depth` deep.
    fn placed(&self, child: &NodeOrText<NodeId>, depth: usize) {
        if let NodeOrText::AppendNode(node) = child {
            self.depths.borrow_mut().insert(*node, depth);
            if depth > self.max_depth {
                self.too_deep.set(true);
            }
        }
    }

    fn depth_of(&self, node: &NodeId) -> usize {
        self.depths.borrow().get(node).copied().unwrap_or(0)
    }
}

impl TreeSink for CappedSink {
    type Handle = NodeId;
    type Output = (Document, bool, bool);
    type ElemName<'a>
        = <Document as TreeSink>::ElemName<'a>
    where
        Self: 'a;

    fn finish(self) -> Self::Output {
        let (over, too_deep) = (self.over(), self.too_deep.get());
        (self.doc, over, too_deep)
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {
        // dom_query keeps every message; a hostile page has millions. Nobody reads them.
    }

    fn get_document(&self) -> NodeId {
        self.doc.get_document()
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Self::ElemName<'a> {
        self.doc.elem_name(target)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        self.created.set(self.created.get().saturating_add(1));
        if !self.over() {
            return self.doc.create_element(name, attrs, flags);
        }
        // Plain `div`s: never a template, so nothing asks for their contents.
        let div = || {
            let div = QualName::new(None, html5ever::ns!(html), html5ever::local_name!("div"));
            let node = self.doc.create_element(div, vec![], ElementFlags::default());
            self.spares.borrow_mut().insert(node);
            node
        };
        if self.spares.borrow().len() < MAX_SPARE {
            return div();
        }
        *self.shared_spare.borrow_mut().get_or_insert_with(div)
    }

    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.doc.create_comment(text)
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.doc.create_pi(target, data)
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        if !self.involves_spare(parent, &child) {
            self.placed(&child, self.depth_of(parent) + 1);
            self.doc.append(parent, child);
        }
    }

    fn append_based_on_parent_node(&self, element: &NodeId, prev_element: &NodeId, child: NodeOrText<NodeId>) {
        if !self.involves_spare(element, &child) && !self.is_spare(prev_element) {
            self.placed(&child, self.depth_of(element).max(self.depth_of(prev_element)) + 1);
            self.doc.append_based_on_parent_node(element, prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, name: StrTendril, public_id: StrTendril, system_id: StrTendril) {
        self.doc.append_doctype_to_document(name, public_id, system_id);
    }

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.doc.get_template_contents(target)
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        self.doc.same_node(x, y)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.doc.set_quirks_mode(mode);
    }

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        if !self.involves_spare(sibling, &new_node) {
            self.placed(&new_node, self.depth_of(sibling));
            self.doc.append_before_sibling(sibling, new_node);
        }
    }

    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        if !self.is_spare(target) {
            self.doc.add_attrs_if_missing(target, attrs);
        }
    }

    fn remove_from_parent(&self, target: &NodeId) {
        if !self.is_spare(target) {
            self.doc.remove_from_parent(target);
        }
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        if !self.is_spare(node) && !self.is_spare(new_parent) {
            self.doc.reparent_children(node, new_parent);
        }
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &NodeId) -> bool {
        self.doc.is_mathml_annotation_xml_integration_point(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_pages_parse_whole() {
        let doc = parse("<html><body><p>Hello <b>bold</b> <a href=/x>link</a></p></body></html>", 100, 32).unwrap();
        assert_eq!(doc.select("a[href]").attr("href").as_deref(), Some("/x"));
        assert!(doc.text().contains("Hello bold link"));
    }

    #[test]
    fn the_formatting_reconstruction_bomb_stops_at_the_cap() {
        // 2,000 unclosed <b>s re-opened after each of 2,000 blocks: 4 million elements asked
        // for by 60 KB of input.
        let n = 2000;
        let bomb = format!(
            "<div>{}</div>{}",
            (0..n).map(|i| format!("<b id={i}>")).collect::<String>(),
            "<div>x</div>".repeat(n)
        );
        assert_eq!(parse(&bomb, 200_000, 10_000).err(), Some(TooComplex::Elements(200_000)));
    }

    #[test]
    fn the_crawl_tests_bombs_are_refused_without_a_panic() {
        // The page-sized versions of the bombs the hostile crawl test serves (3,000 unclosed
        // formatting elements once tripped html5ever's adoption agency past the cap).
        let page = |body: String| format!("<!doctype html><html><body>{body}</body></html>");
        let reconstruct = page(format!(
            "<div>{}</div>{}",
            (0..3000).map(|i| format!("<b id={i}>")).collect::<String>(),
            "<div>x</div>".repeat(3000)
        ));
        let misnested = page(format!(
            "{}{}",
            (0..3000).map(|i| format!("<p><b id={i}></p>")).collect::<String>(),
            "<div>x</div><i>y</b></i>".repeat(3000)
        ));
        for (name, html) in [
            ("reconstruct", reconstruct),
            ("misnested", misnested),
            ("tables", page("<table><tr><td>".repeat(30_000))),
            ("tiny", page("<i></i>".repeat(700_000))),
        ] {
            assert!(parse(&html, 200_000, 512).is_err(), "{name} parsed whole");
        }
    }

    #[test]
    fn a_tag_with_endless_attributes_is_refused_before_tokenizing() {
        let tag = |n: usize| format!("<div {}>x</div>", (0..n).map(|i| format!("a{i}=\"v>\" ")).collect::<String>());
        assert_eq!(most_attributes(tag(3).as_bytes()), 3);
        assert_eq!(most_attributes(format!("<p></p {}>", "a ".repeat(1500)).as_bytes()), 1500, "end tags too");
        let after_script = format!("<script>x</script><div {}></div><script>y</script>", "a ".repeat(1500));
        assert_eq!(most_attributes(after_script.as_bytes()), 1500, "raw text ends at its end tag");
        assert!(parse(&tag(MAX_ATTRIBUTES), 1000, 10).is_ok());
        assert_eq!(parse(&tag(MAX_ATTRIBUTES + 1), 1000, 10).err(), Some(TooComplex::Attributes(MAX_ATTRIBUTES)));
        // Markup-looking text in comments, scripts and values is not counted.
        let hidden =
            format!("<!-- <a {0}> --><script>if (a <b {0}) {{}}</script><p title='<i {0}>'>x</p>", "x ".repeat(2000));
        assert_eq!(most_attributes(hidden.as_bytes()), 1);
    }

    #[test]
    fn nesting_beyond_the_cap_is_refused_and_within_it_accepted() {
        let deep = |n: usize| format!("{}x{}", "<div>".repeat(n), "</div>".repeat(n));
        assert!(parse(&deep(100), 1000, 200).is_ok());
        assert_eq!(parse(&deep(300), 1000, 200).err(), Some(TooComplex::Depth(200)));
        // 100,000 levels: refused after the first few hundred, not after a quadratic parse.
        assert_eq!(parse(&deep(100_000), 200_000, 512).err(), Some(TooComplex::Depth(512)));
    }
}
