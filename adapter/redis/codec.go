package redis

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Stored ServiceRequests and Consents are the largest part of an open
// referral's memory. They are kept compressed with a dictionary of what
// every resource of the kind repeats: for ServiceRequests the element
// names, UK Core and terminology system URLs and the social prescribing
// codes, which shrink a typical 700-1,100 byte referral to about a third (a
// dictionary does most of the work on inputs this small); for Consents the
// element names, the FHIR R4 and UK Core consent systems and codes and the
// structure practices send. Readers get the JSON back byte for byte.
//
// A stored value is one of:
//   - plain JSON (it starts with '{': written before compression, or by
//     hand);
//   - an S2 block (s2Frame): a byte naming its dictionary, the CRC-32C of
//     the JSON, then the block. This is what pack writes for anything up
//     to 64 KiB, the reach of an S2 dictionary;
//   - a zstd frame naming its dictionary's id: what pack writes for a
//     larger resource, and wrote for every resource before S2 (issue 22:
//     zstd resets a 256 KiB match table from the dictionary's for every
//     value, which cost the adapter about 6% of its CPU per referral;
//     S2 stores these resources in about as many bytes at a fraction of
//     the CPU). pack uses S2's default mode, not its better mode, which
//     zeroes a 576 KiB pair of hash tables for every value: 5.6 to 0.9 us
//     per Consent and 6.6 to 1.9 us per ServiceRequest, pack from 4.3% to
//     1.7% of the adapter's CPU under load, for 10 and 78 more bytes that
//     Redis's allocator classes absorb (an open referral 3,649 B before,
//     3,650 B after).
//
// Values written with an older dictionary or format stay readable: a new
// dictionary gets a new id and S2 tag, and the old ones stay registered.
// Each kind has a codec that compresses with its dictionary; unpack reads
// every format and dictionary.

//go:embed dict/servicerequest-v1.txt
var srDictV1 []byte

// srDictV1ID names dict/servicerequest-v1.txt in stored zstd frames, and
// srDictV1Tag in S2 blocks. Never reuse either for other content.
const (
	srDictV1ID  = 0x5350_0001
	srDictV1Tag = 0x01
)

//go:embed dict/consent-v1.txt
var consentDictV1 []byte

// consentDictV1ID names dict/consent-v1.txt in stored zstd frames, and
// consentDictV1Tag in S2 blocks. Never reuse either for other content.
const (
	consentDictV1ID  = 0x434e_0001
	consentDictV1Tag = 0x02
)

var (
	// srCodec stores ServiceRequests.
	srCodec = newCodec("ServiceRequest", srDictV1Tag, srDictV1ID, srDictV1)
	// consentCodec stores Consents (the json field of their hash).
	consentCodec = newCodec("Consent", consentDictV1Tag, consentDictV1ID, consentDictV1)
)

// storedDecoder reads every stored zstd frame, whichever dictionary it
// names.
var storedDecoder = mustDecoder(map[uint32][]byte{srDictV1ID: srDictV1, consentDictV1ID: consentDictV1})

// s2Dicts reads every stored S2 block, by the tag that starts it. A tag is
// never '{' (plain JSON) nor 0x28 (the first byte of a zstd frame).
// Each dictionary's first repeat is where it holds how every resource of
// its kind starts.
var s2Dicts = map[byte]*s2.Dict{
	srDictV1Tag:      s2.MakeDict(srDictV1, []byte(`{"resourceType":"ServiceRequest",`)),
	consentDictV1Tag: s2.MakeDict(consentDictV1, []byte(`{"resourceType":"Consent",`)),
}

// s2Header is the tag byte and the CRC-32C of the JSON (big-endian) before
// an S2 block: S2 blocks carry no checksum of their own, and a damaged
// value must read as an error, not as other JSON.
const s2Header = 5

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// codec compresses one kind of resource for storing, with its dictionary.
type codec struct {
	kind string // for errors
	tag  byte
	dict *s2.Dict
	enc  *zstd.Encoder // over S2's reach
}

func newCodec(kind string, tag byte, dictID uint32, dict []byte) *codec {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(dictID, dict),
		zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2))
	if err != nil {
		panic(fmt.Sprintf("redis: zstd encoder for %s: %v", kind, err))
	}
	return &codec{kind: kind, tag: tag, dict: s2Dicts[tag], enc: e}
}

func mustDecoder(dicts map[uint32][]byte) *zstd.Decoder {
	opts := []zstd.DOption{zstd.WithDecoderConcurrency(0), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(maxStoredJSON)}
	for id, d := range dicts {
		opts = append(opts, zstd.WithDecoderDictRaw(id, d))
	}
	d, err := zstd.NewReader(nil, opts...)
	if err != nil {
		panic(fmt.Sprintf("redis: zstd decoder: %v", err))
	}
	return d
}

// maxStoredJSON bounds what a stored value may decompress to (request
// bodies are far smaller; MAX_BODY_BYTES is 1 MiB by default).
const maxStoredJSON = 64 << 20

// pack compresses a resource's JSON for storing: an S2 block within the
// dictionary's reach, a zstd frame beyond it.
func (c *codec) pack(j []byte) []byte {
	if len(j) > s2.MaxDictSrcOffset {
		return c.enc.EncodeAll(j, make([]byte, 0, len(j)/2+32))
	}
	scratch := packScratch.Get().(*[]byte)
	defer packScratch.Put(scratch)
	if n := s2.MaxEncodedLen(len(j)); cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	block := c.dict.Encode((*scratch)[:cap(*scratch)], j)
	out := make([]byte, s2Header, s2Header+len(block))
	out[0] = c.tag
	binary.BigEndian.PutUint32(out[1:], crc32.Checksum(j, castagnoli))
	return append(out, block...)
}

// packScratch holds S2's worst-case output buffers, so that a stored value
// allocates only its own size.
var packScratch = sync.Pool{New: func() any { return new([]byte) }}

// unpack returns the JSON of a stored value: as is when it is plain JSON,
// else decompressed.
func (c *codec) unpack(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] == '{' {
		return v, nil
	}
	var j []byte
	var err error
	if d := s2Dicts[v[0]]; d != nil {
		j, err = unpackS2(d, v)
	} else {
		j, err = storedDecoder.DecodeAll(v, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: stored %s does not decompress: %w", c.kind, err)
	}
	return j, nil
}

// errDamaged is a stored S2 value whose JSON does not match its checksum.
var errDamaged = errors.New("checksum mismatch")

func unpackS2(d *s2.Dict, v []byte) ([]byte, error) {
	if len(v) < s2Header {
		return nil, s2.ErrCorrupt
	}
	block := v[s2Header:]
	if n, err := s2.DecodedLen(block); err != nil || n > maxStoredJSON {
		return nil, s2.ErrCorrupt
	}
	j, err := d.Decode(nil, block)
	if err != nil {
		return nil, err
	}
	if crc32.Checksum(j, castagnoli) != binary.BigEndian.Uint32(v[1:]) {
		return nil, errDamaged
	}
	return j, nil
}
