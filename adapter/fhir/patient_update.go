package fhir

import (
	"strconv"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// StoredVersion is a stored resource's meta.versionId (1 when it has none).
func StoredVersion(body []byte) int {
	v, err := strconv.Atoi(gjson.GetBytes(body, "meta.versionId").Str)
	if err != nil || v < 1 {
		return 1
	}
	return v
}

// PatientChange compares a Patient sent as an update with the stored one:
// whether anything changed but the server's meta.versionId and
// meta.lastUpdated, and whether the ways to reach the patient (telecom,
// address) did.
func PatientChange(sent, stored []byte) (changed, contact bool) {
	for _, el := range []string{"telecom", "address"} {
		if !sameJSON(gjson.GetBytes(sent, el), gjson.GetBytes(stored, el)) {
			contact = true
		}
	}
	return !sameJSON(content(sent), content(stored)), contact
}

// content is a resource without its id, meta.versionId and
// meta.lastUpdated (and meta, once empty).
func content(body []byte) gjson.Result {
	for _, path := range []string{"id", "meta.versionId", "meta.lastUpdated"} {
		body, _ = sjson.DeleteBytes(body, path)
	}
	if m := gjson.GetBytes(body, "meta"); m.IsObject() && len(m.Map()) == 0 {
		body, _ = sjson.DeleteBytes(body, "meta")
	}
	return gjson.ParseBytes(body)
}

// ResourceID is a resource's id as sent ("" when none).
func ResourceID(body []byte) string { return gjson.GetBytes(body, "id").Str }
