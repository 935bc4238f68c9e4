// The file of a multipart/form-data body (an HTML form's upload): the first part that carries a file, or
// the first part at all. Malformed bodies are HTTPErrors naming what is wrong.

public enum MultipartForm {
    /// The bytes of the uploaded file and its file name, from a body sent with `contentType`
    /// ("multipart/form-data; boundary=…").
    public static func file(in body: [UInt8], contentType: String) throws -> (data: [UInt8], filename: String?) {
        guard let b = boundary(contentType) else { throw HTTPError(400, "multipart/form-data without a boundary") }
        let delimiter = Array(("--" + b).utf8)
        guard var i = HTTPRequestParser.find(delimiter, in: body, limit: body.count) else {
            throw HTTPError(400, "multipart body without its boundary")
        }
        var first: (data: [UInt8], filename: String?)?
        while true {
            i += delimiter.count
            guard i + 2 <= body.count else { throw HTTPError(400, "multipart body ends inside a delimiter") }
            if body[i] == 45 && body[i + 1] == 45 { break }  // "--": the closing delimiter
            guard body[i] == 13 && body[i + 1] == 10 else { throw HTTPError(400, "malformed multipart delimiter line") }
            let partStart = i + 2
            guard let headEnd = HTTPRequestParser.find([13, 10, 13, 10], in: body, from: partStart, limit: 8192) else {
                throw HTTPError(400, "multipart part without a header end")
            }
            let next = HTTPRequestParser.find([13, 10] + delimiter, in: body, from: headEnd + 4, limit: body.count)
            guard let dataEnd = next else { throw HTTPError(400, "multipart part without a closing boundary") }
            let head = String(decoding: body[partStart..<headEnd], as: UTF8.self)
            let part = (data: Array(body[(headEnd + 4)..<dataEnd]), filename: filename(head))
            if part.filename != nil { return part }
            if first == nil { first = part }
            i = dataEnd + 2
        }
        guard let part = first else { throw HTTPError(400, "multipart body holds no part") }
        return part
    }

    static func boundary(_ contentType: String) -> String? {
        for param in contentType.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var v = kv[1].trimmingCharacters(in: .whitespaces)
            if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            return v.isEmpty || v.count > 200 ? nil : v
        }
        return nil
    }

    /// The filename parameter of a part's Content-Disposition header.
    static func filename(_ head: String) -> String? {
        for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            guard let r = line.range(of: "filename=\"") else { return nil }
            let rest = line[r.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }
        return nil
    }
}
