import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML document read with Foundation's XMLParser into a plain tree, so tests can check
/// what an SVG picture draws rather than how its text happens to look.
public final class XMLTree: @unchecked Sendable {
    public let name: String
    public let attributes: [String: String]
    public internal(set) var text = ""
    public internal(set) var children: [XMLTree] = []

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    public subscript(_ attribute: String) -> String? { attributes[attribute] }

    /// A numeric attribute, or nil if it is missing or not a number.
    public func number(_ attribute: String) -> Double? { attributes[attribute].flatMap(Double.init) }

    /// Whether the class attribute lists `c`.
    public func hasClass(_ c: String) -> Bool {
        (attributes["class"] ?? "").split(separator: " ").contains { $0 == c }
    }

    /// This node and every node below it, in document order.
    public var descendants: [XMLTree] { [self] + children.flatMap(\.descendants) }

    public func all(_ name: String? = nil, class c: String? = nil) -> [XMLTree] {
        descendants.filter { (name == nil || $0.name == name) && (c == nil || $0.hasClass(c!)) }
    }

    /// Parses `text`; throws with the parser's own error and line if it is not well-formed XML.
    public static func parse(_ text: String) throws -> XMLTree {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw TestSetupError("not well-formed XML at line \(parser.lineNumber): \(String(describing: parser.parserError))")
        }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLTree?
    private var open: [XMLTree] = []

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let node = XMLTree(name: name, attributes: attributes)
        if let parent = open.last { parent.children.append(node) } else { root = node }
        open.append(node)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        _ = open.popLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        open.last?.text += string
    }
}
