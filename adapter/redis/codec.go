package redis

import (
	_ "embed"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Stored ServiceRequests and Consents are the largest part of an open
// referral's memory. They are kept compressed with zstd and a dictionary of
// what every resource of the kind repeats: for ServiceRequests the element
// names, UK Core and terminology system URLs and the social prescribing
// codes, which shrink a typical 700-1,100 byte referral to about a third (a
// dictionary does most of the work on inputs this small); for Consents the
// element names, the FHIR R4 and UK Core consent systems and codes and the
// structure practices send. Readers get the JSON back byte for byte.
//
// A stored value is either plain JSON (it starts with '{': written before
// compression, or by hand) or a zstd frame naming its dictionary's id, so
// values written with an older dictionary stay readable: a new dictionary
// gets a new id and the old one stays registered with the decoder. Each
// kind has a codec that compresses with its dictionary; the one decoder
// knows every dictionary.

//go:embed dict/servicerequest-v1.txt
var srDictV1 []byte

// srDictV1ID names dict/servicerequest-v1.txt in stored frames. Never reuse
// it for other content.
const srDictV1ID = 0x5350_0001

//go:embed dict/consent-v1.txt
var consentDictV1 []byte

// consentDictV1ID names dict/consent-v1.txt in stored frames. Never reuse
// it for other content.
const consentDictV1ID = 0x434e_0001

var (
	// srCodec stores ServiceRequests.
	srCodec = newCodec("ServiceRequest", srDictV1ID, srDictV1)
	// consentCodec stores Consents (the json field of their hash).
	consentCodec = newCodec("Consent", consentDictV1ID, consentDictV1)
)

// storedDecoder reads every stored frame, whichever dictionary it names.
var storedDecoder = mustDecoder(map[uint32][]byte{srDictV1ID: srDictV1, consentDictV1ID: consentDictV1})

// codec compresses one kind of resource for storing, with its dictionary.
type codec struct {
	kind string // for errors
	enc  *zstd.Encoder
}

func newCodec(kind string, dictID uint32, dict []byte) *codec {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(dictID, dict),
		zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2))
	if err != nil {
		panic(fmt.Sprintf("redis: zstd encoder for %s: %v", kind, err))
	}
	return &codec{kind: kind, enc: e}
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

// pack compresses a resource's JSON for storing.
func (c *codec) pack(j []byte) []byte {
	return c.enc.EncodeAll(j, make([]byte, 0, len(j)/2+32))
}

// unpack returns the JSON of a stored value: as is when it is plain JSON,
// else decompressed.
func (c *codec) unpack(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] == '{' {
		return v, nil
	}
	j, err := storedDecoder.DecodeAll(v, nil)
	if err != nil {
		return nil, fmt.Errorf("redis: stored %s does not decompress: %w", c.kind, err)
	}
	return j, nil
}
