package redis

import (
	_ "embed"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Stored ServiceRequests are the largest part of an open referral's
// memory. They are kept compressed with zstd and a dictionary of what every
// ServiceRequest repeats (element names, UK Core and terminology system
// URLs, the social prescribing codes), which shrinks a typical 700-1,100
// byte referral to about a third: a dictionary does most of the work on
// inputs this small. Readers get the JSON back byte for byte.
//
// A stored value is either plain JSON (it starts with '{': written before
// compression, or by hand) or a zstd frame naming its dictionary's id, so
// values written with an older dictionary stay readable: a new dictionary
// gets a new id and the old one stays registered with the decoder.

//go:embed dict/servicerequest-v1.txt
var srDictV1 []byte

// srDictV1ID names dict/servicerequest-v1.txt in stored frames. Never reuse
// it for other content.
const srDictV1ID = 0x5350_0001

var (
	srEncoder = mustEncoder()
	srDecoder = mustDecoder()
)

func mustEncoder() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(srDictV1ID, srDictV1),
		zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2))
	if err != nil {
		panic(fmt.Sprintf("redis: zstd encoder: %v", err))
	}
	return e
}

func mustDecoder() *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecoderDictRaw(srDictV1ID, srDictV1),
		zstd.WithDecoderConcurrency(0), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(maxStoredJSON))
	if err != nil {
		panic(fmt.Sprintf("redis: zstd decoder: %v", err))
	}
	return d
}

// maxStoredJSON bounds what a stored value may decompress to (request
// bodies are far smaller; MAX_BODY_BYTES is 1 MiB by default).
const maxStoredJSON = 64 << 20

// packServiceRequest compresses a ServiceRequest's JSON for storing.
func packServiceRequest(j []byte) []byte {
	return srEncoder.EncodeAll(j, make([]byte, 0, len(j)/2+32))
}

// unpackServiceRequest returns the JSON of a stored ServiceRequest value.
func unpackServiceRequest(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] == '{' {
		return v, nil
	}
	j, err := srDecoder.DecodeAll(v, nil)
	if err != nil {
		return nil, fmt.Errorf("redis: stored ServiceRequest does not decompress: %w", err)
	}
	return j, nil
}
