// Package pdf writes small text documents as PDF: A4 pages, wrapped
// paragraphs in a few sizes, bold, horizontal rules, tables with bordered
// cells that break across pages, page numbers and document information.
//
// Chinese needs no font file: every string is set in the Adobe-GB1
// CIDFont STSong-Light through the predefined CMap UniGB-UTF16-H, which
// PDF readers since 1.4 resolve from their own resources (ISO 32000-1
// §9.7.5.2, §9.10.2). Text is written as UTF-16BE hex strings, so CJK
// ideographs outside the BMP travel as surrogate pairs (the CMap's
// four-byte code space). Emoji and other characters no Adobe-GB1 font
// has are drawn as 〓 carrying the character as ActualText. A ToUnicode
// CMap makes copying and text extraction exact.
//
// The output depends only on the content and Info.Created: the same input
// gives the same bytes.
package pdf
