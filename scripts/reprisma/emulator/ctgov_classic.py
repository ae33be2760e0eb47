"""ClinicalTrials.gov classic XML (``<clinical_study>``, ``public.xsd``) -> API v2 study JSON.

The registry's bulk download ``AllPublicXML`` distributed one ``<clinical_study>`` file per
study until the classic site was retired (2024). :func:`classic_to_v2` maps one such record to
the structure API v2 serves (``protocolSection``, ``derivedSection``, ``hasResults``), **field
by field, only fields the source has**: an element that is absent gives no v2 key, and nothing
the v2 API adds of its own (MeSH ids, ancestors, browse leaves, ``stdAges``, ``geoPoint``,
organisation class, secondary-id types, model predictions) is made up. The full mapping, and
what is not mapped, is the table in this package's README (``classic XML path -> v2 JSON path``);
``FIELD_MAP`` below is the same list as data, and ``tests/emulator/test_ctgov_classic.py`` checks
every row of it.

Value conversions (each a small table; a value outside it is a :class:`CorpusError` naming the
file and element, never a guess):

* enumerations: display text -> the v2 enum (``Active, not recruiting`` -> ``ACTIVE_NOT_RECRUITING``,
  ``Phase 1/Phase 2`` -> ``["PHASE1", "PHASE2"]``, ``Parallel Assignment`` -> ``PARALLEL``,
  ``Double (Participant, Investigator)`` -> masking ``DOUBLE``, whoMasked
  ``["PARTICIPANT", "INVESTIGATOR"]``; date and enrolment types ``Actual`` -> ``ACTUAL``,
  ``Anticipated``/``Estimate`` -> ``ESTIMATED``);
* dates: ``June 8, 2017`` -> ``2017-06-08``, ``December 2020`` -> ``2020-12`` (v2 partial dates);
* Yes/No -> true/false; ``Accepts Healthy Volunteers`` -> true; ages ``N/A`` -> no key;
* text blocks (``<textblock>``): the classic export re-wrapped every text at about 80 columns
  and indented it; the emulator removes the common indentation and the blank lines around the
  text and keeps its line breaks. It cannot restore the registrant's own line breaks or v2's
  markdown, so long texts differ in whitespace from what API v2 serves for the same study;
* ``<reference>`` (background or derived: the classic format does not say which) -> a
  reference with ``pmid`` and ``citation`` and **no** ``type``; ``<results_reference>`` -> type
  ``RESULT``;
* ``armGroups[].interventionNames``: v2 lists ``"<Type>: <name>"`` for each intervention
  assigned to the arm; the classic record states the assignment in
  ``intervention/arm_group_label``, and the type's display word (``Drug``, ``Behavioral``...)
  is the classic ``intervention_type`` text.
* ``hasResults``: whether the record has a ``<clinical_results>`` element.
* ``derivedSection.miscInfoModule.versionHolder``: the day in ``required_header/download_date``
  ("ClinicalTrials.gov processed this data on July 28, 2020"), the data's version.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from .corpus import CorpusError

__all__ = ["classic_to_v2", "read_classic_xml", "processed_date", "FIELD_MAP", "UNMAPPED"]

# --------------------------------------------------------------------------- value tables

STATUS = {
    "Active, not recruiting": "ACTIVE_NOT_RECRUITING", "Completed": "COMPLETED",
    "Enrolling by invitation": "ENROLLING_BY_INVITATION", "Not yet recruiting": "NOT_YET_RECRUITING",
    "Recruiting": "RECRUITING", "Suspended": "SUSPENDED", "Terminated": "TERMINATED", "Withdrawn": "WITHDRAWN",
    "Available": "AVAILABLE", "No longer available": "NO_LONGER_AVAILABLE",
    "Temporarily not available": "TEMPORARILY_NOT_AVAILABLE", "Approved for marketing": "APPROVED_FOR_MARKETING",
    "Withheld": "WITHHELD", "Unknown status": "UNKNOWN",
}
PHASE = {"N/A": "NA", "Early Phase 1": "EARLY_PHASE1", "Phase 1": "PHASE1", "Phase 2": "PHASE2",
         "Phase 3": "PHASE3", "Phase 4": "PHASE4"}
STUDY_TYPE = {"Interventional": "INTERVENTIONAL", "Observational": "OBSERVATIONAL",
              "Observational [Patient Registry]": "OBSERVATIONAL", "Expanded Access": "EXPANDED_ACCESS"}
DATE_TYPE = {"Actual": "ACTUAL", "Anticipated": "ESTIMATED", "Estimate": "ESTIMATED", "Estimated": "ESTIMATED"}
ALLOCATION = {"Randomized": "RANDOMIZED", "Non-Randomized": "NON_RANDOMIZED", "N/A": "NA"}
MODEL = {"Single Group Assignment": "SINGLE_GROUP", "Parallel Assignment": "PARALLEL",
         "Crossover Assignment": "CROSSOVER", "Factorial Assignment": "FACTORIAL",
         "Sequential Assignment": "SEQUENTIAL"}
PURPOSE = {"Treatment": "TREATMENT", "Prevention": "PREVENTION", "Diagnostic": "DIAGNOSTIC",
           "Supportive Care": "SUPPORTIVE_CARE", "Screening": "SCREENING",
           "Health Services Research": "HEALTH_SERVICES_RESEARCH", "Basic Science": "BASIC_SCIENCE",
           "Device Feasibility": "DEVICE_FEASIBILITY", "Other": "OTHER"}
MASKING = {"None": "NONE", "Single": "SINGLE", "Double": "DOUBLE", "Triple": "TRIPLE", "Quadruple": "QUADRUPLE"}
WHO_MASKED = {"Participant": "PARTICIPANT", "Care Provider": "CARE_PROVIDER", "Investigator": "INVESTIGATOR",
              "Outcomes Assessor": "OUTCOMES_ASSESSOR"}
AGENCY_CLASS = {"NIH": "NIH", "U.S. Fed": "FED", "Industry": "INDUSTRY", "Other": "OTHER"}
ARM_TYPE = {"Experimental": "EXPERIMENTAL", "Active Comparator": "ACTIVE_COMPARATOR",
            "Placebo Comparator": "PLACEBO_COMPARATOR", "Sham Comparator": "SHAM_COMPARATOR",
            "No Intervention": "NO_INTERVENTION", "Other": "OTHER"}
INTERVENTION_TYPE = {"Behavioral": "BEHAVIORAL", "Biological": "BIOLOGICAL",
                     "Combination Product": "COMBINATION_PRODUCT", "Device": "DEVICE",
                     "Diagnostic Test": "DIAGNOSTIC_TEST", "Dietary Supplement": "DIETARY_SUPPLEMENT",
                     "Drug": "DRUG", "Genetic": "GENETIC", "Procedure": "PROCEDURE", "Radiation": "RADIATION",
                     "Other": "OTHER"}
SEX = {"All": "ALL", "Female": "FEMALE", "Male": "MALE"}
OFFICIAL_ROLE = {"Principal Investigator": "PRINCIPAL_INVESTIGATOR", "Study Director": "STUDY_DIRECTOR",
                 "Study Chair": "STUDY_CHAIR", "Sub-Investigator": "SUB_INVESTIGATOR"}
RESPONSIBLE = {"Sponsor": "SPONSOR", "Principal Investigator": "PRINCIPAL_INVESTIGATOR",
               "Sponsor-Investigator": "SPONSOR_INVESTIGATOR"}
YES_NO = {"Yes": True, "No": False}
IPD = {"Yes": "YES", "No": "NO", "Undecided": "UNDECIDED"}
IPD_INFO = {"Study Protocol": "STUDY_PROTOCOL", "Statistical Analysis Plan (SAP)": "SAP",
            "Informed Consent Form (ICF)": "ICF", "Clinical Study Report (CSR)": "CSR",
            "Analytic Code": "ANALYTIC_CODE"}
HEALTHY = {"Accepts Healthy Volunteers": True, "No": False}

# classic XML path -> v2 JSON path -> how the value is converted, in v2 order (the README's
# table; tests/emulator/test_ctgov_classic.py checks every row on the shipped records). Kinds:
# text (stripped), block (textblock, see the docstring), date (Month D, YYYY / Month YYYY),
# enum TABLE (a table above), phase, masking, who_masked, int, age (N/A -> absent), and the
# structural ones named in the docstring (intervention_names, contact_role, contact_phone,
# reference, reference_type, version_holder, mesh, has_results).
FIELD_MAP: list[tuple[str, str, str]] = [
    ("id_info/nct_id", "protocolSection.identificationModule.nctId", "text"),
    ("id_info/org_study_id", "protocolSection.identificationModule.orgStudyIdInfo.id", "text"),
    ("id_info/secondary_id", "protocolSection.identificationModule.secondaryIdInfos[].id", "text"),
    ("source", "protocolSection.identificationModule.organization.fullName", "text"),
    ("brief_title", "protocolSection.identificationModule.briefTitle", "text"),
    ("official_title", "protocolSection.identificationModule.officialTitle", "text"),
    ("acronym", "protocolSection.identificationModule.acronym", "text"),
    ("verification_date", "protocolSection.statusModule.statusVerifiedDate", "date"),
    ("overall_status", "protocolSection.statusModule.overallStatus", "enum STATUS"),
    ("has_expanded_access", "protocolSection.statusModule.expandedAccessInfo.hasExpandedAccess", "enum YES_NO"),
    ("start_date", "protocolSection.statusModule.startDateStruct.date", "date"),
    ("start_date/@type", "protocolSection.statusModule.startDateStruct.type", "enum DATE_TYPE"),
    ("primary_completion_date", "protocolSection.statusModule.primaryCompletionDateStruct.date", "date"),
    ("primary_completion_date/@type", "protocolSection.statusModule.primaryCompletionDateStruct.type", "enum DATE_TYPE"),
    ("completion_date", "protocolSection.statusModule.completionDateStruct.date", "date"),
    ("completion_date/@type", "protocolSection.statusModule.completionDateStruct.type", "enum DATE_TYPE"),
    ("study_first_submitted", "protocolSection.statusModule.studyFirstSubmitDate", "date"),
    ("study_first_submitted_qc", "protocolSection.statusModule.studyFirstSubmitQcDate", "date"),
    ("study_first_posted", "protocolSection.statusModule.studyFirstPostDateStruct.date", "date"),
    ("study_first_posted/@type", "protocolSection.statusModule.studyFirstPostDateStruct.type", "enum DATE_TYPE"),
    ("disposition_first_submitted", "protocolSection.statusModule.dispFirstSubmitDate", "date"),
    ("disposition_first_submitted_qc", "protocolSection.statusModule.dispFirstSubmitQcDate", "date"),
    ("disposition_first_posted", "protocolSection.statusModule.dispFirstPostDateStruct.date", "date"),
    ("disposition_first_posted/@type", "protocolSection.statusModule.dispFirstPostDateStruct.type", "enum DATE_TYPE"),
    ("last_update_submitted", "protocolSection.statusModule.lastUpdateSubmitDate", "date"),
    ("last_update_posted", "protocolSection.statusModule.lastUpdatePostDateStruct.date", "date"),
    ("last_update_posted/@type", "protocolSection.statusModule.lastUpdatePostDateStruct.type", "enum DATE_TYPE"),
    ("responsible_party/responsible_party_type", "protocolSection.sponsorCollaboratorsModule.responsibleParty.type", "enum RESPONSIBLE"),
    ("responsible_party/investigator_full_name", "protocolSection.sponsorCollaboratorsModule.responsibleParty.investigatorFullName", "text"),
    ("responsible_party/investigator_title", "protocolSection.sponsorCollaboratorsModule.responsibleParty.investigatorTitle", "text"),
    ("responsible_party/investigator_affiliation", "protocolSection.sponsorCollaboratorsModule.responsibleParty.investigatorAffiliation", "text"),
    ("sponsors/lead_sponsor/agency", "protocolSection.sponsorCollaboratorsModule.leadSponsor.name", "text"),
    ("sponsors/lead_sponsor/agency_class", "protocolSection.sponsorCollaboratorsModule.leadSponsor.class", "enum AGENCY_CLASS"),
    ("sponsors/collaborator/agency", "protocolSection.sponsorCollaboratorsModule.collaborators[].name", "text"),
    ("sponsors/collaborator/agency_class", "protocolSection.sponsorCollaboratorsModule.collaborators[].class", "enum AGENCY_CLASS"),
    ("oversight_info/has_dmc", "protocolSection.oversightModule.oversightHasDmc", "enum YES_NO"),
    ("oversight_info/is_fda_regulated_drug", "protocolSection.oversightModule.isFdaRegulatedDrug", "enum YES_NO"),
    ("oversight_info/is_fda_regulated_device", "protocolSection.oversightModule.isFdaRegulatedDevice", "enum YES_NO"),
    ("brief_summary/textblock", "protocolSection.descriptionModule.briefSummary", "block"),
    ("detailed_description/textblock", "protocolSection.descriptionModule.detailedDescription", "block"),
    ("condition", "protocolSection.conditionsModule.conditions[]", "text"),
    ("keyword", "protocolSection.conditionsModule.keywords[]", "text"),
    ("study_type", "protocolSection.designModule.studyType", "enum STUDY_TYPE"),
    ("phase", "protocolSection.designModule.phases[]", "phase"),
    ("study_design_info/allocation", "protocolSection.designModule.designInfo.allocation", "enum ALLOCATION"),
    ("study_design_info/intervention_model", "protocolSection.designModule.designInfo.interventionModel", "enum MODEL"),
    ("study_design_info/intervention_model_description", "protocolSection.designModule.designInfo.interventionModelDescription", "text"),
    ("study_design_info/primary_purpose", "protocolSection.designModule.designInfo.primaryPurpose", "enum PURPOSE"),
    ("study_design_info/masking", "protocolSection.designModule.designInfo.maskingInfo.masking", "masking"),
    ("study_design_info/masking", "protocolSection.designModule.designInfo.maskingInfo.whoMasked[]", "who_masked"),
    ("study_design_info/masking_description", "protocolSection.designModule.designInfo.maskingInfo.maskingDescription", "text"),
    ("enrollment", "protocolSection.designModule.enrollmentInfo.count", "int"),
    ("enrollment/@type", "protocolSection.designModule.enrollmentInfo.type", "enum DATE_TYPE"),
    ("arm_group/arm_group_label", "protocolSection.armsInterventionsModule.armGroups[].label", "text"),
    ("arm_group/arm_group_type", "protocolSection.armsInterventionsModule.armGroups[].type", "enum ARM_TYPE"),
    ("arm_group/description", "protocolSection.armsInterventionsModule.armGroups[].description", "text"),
    ("intervention/arm_group_label", "protocolSection.armsInterventionsModule.armGroups[].interventionNames[]", "intervention_names"),
    ("intervention/intervention_type", "protocolSection.armsInterventionsModule.interventions[].type", "enum INTERVENTION_TYPE"),
    ("intervention/intervention_name", "protocolSection.armsInterventionsModule.interventions[].name", "text"),
    ("intervention/description", "protocolSection.armsInterventionsModule.interventions[].description", "text"),
    ("intervention/arm_group_label", "protocolSection.armsInterventionsModule.interventions[].armGroupLabels[]", "text"),
    ("intervention/other_name", "protocolSection.armsInterventionsModule.interventions[].otherNames[]", "text"),
    ("primary_outcome/measure", "protocolSection.outcomesModule.primaryOutcomes[].measure", "text"),
    ("primary_outcome/description", "protocolSection.outcomesModule.primaryOutcomes[].description", "text"),
    ("primary_outcome/time_frame", "protocolSection.outcomesModule.primaryOutcomes[].timeFrame", "text"),
    ("secondary_outcome/measure", "protocolSection.outcomesModule.secondaryOutcomes[].measure", "text"),
    ("secondary_outcome/description", "protocolSection.outcomesModule.secondaryOutcomes[].description", "text"),
    ("secondary_outcome/time_frame", "protocolSection.outcomesModule.secondaryOutcomes[].timeFrame", "text"),
    ("eligibility/criteria/textblock", "protocolSection.eligibilityModule.eligibilityCriteria", "block"),
    ("eligibility/healthy_volunteers", "protocolSection.eligibilityModule.healthyVolunteers", "enum HEALTHY"),
    ("eligibility/gender", "protocolSection.eligibilityModule.sex", "enum SEX"),
    ("eligibility/minimum_age", "protocolSection.eligibilityModule.minimumAge", "age"),
    ("eligibility/maximum_age", "protocolSection.eligibilityModule.maximumAge", "age"),
    ("overall_contact/last_name", "protocolSection.contactsLocationsModule.centralContacts[].name", "text"),
    ("overall_contact/email", "protocolSection.contactsLocationsModule.centralContacts[].email", "text"),
    ("overall_contact", "protocolSection.contactsLocationsModule.centralContacts[].role", "contact_role"),
    ("overall_official/last_name", "protocolSection.contactsLocationsModule.overallOfficials[].name", "text"),
    ("overall_official/affiliation", "protocolSection.contactsLocationsModule.overallOfficials[].affiliation", "text"),
    ("overall_official/role", "protocolSection.contactsLocationsModule.overallOfficials[].role", "enum OFFICIAL_ROLE"),
    ("location/facility/name", "protocolSection.contactsLocationsModule.locations[].facility", "text"),
    ("location/status", "protocolSection.contactsLocationsModule.locations[].status", "enum STATUS"),
    ("location/facility/address/city", "protocolSection.contactsLocationsModule.locations[].city", "text"),
    ("location/facility/address/state", "protocolSection.contactsLocationsModule.locations[].state", "text"),
    ("location/facility/address/zip", "protocolSection.contactsLocationsModule.locations[].zip", "text"),
    ("location/facility/address/country", "protocolSection.contactsLocationsModule.locations[].country", "text"),
    ("location/contact/last_name", "protocolSection.contactsLocationsModule.locations[].contacts[].name", "text"),
    ("location/contact/phone", "protocolSection.contactsLocationsModule.locations[].contacts[].phone", "contact_phone"),
    ("location/contact/email", "protocolSection.contactsLocationsModule.locations[].contacts[].email", "text"),
    ("location/contact_backup/phone", "protocolSection.contactsLocationsModule.locations[].contacts[].phone", "contact_phone"),
    ("location/contact", "protocolSection.contactsLocationsModule.locations[].contacts[].role", "contact_role"),
    ("location/contact_backup", "protocolSection.contactsLocationsModule.locations[].contacts[].role", "contact_role"),
    ("reference/PMID", "protocolSection.referencesModule.references[].pmid", "reference"),
    ("reference/citation", "protocolSection.referencesModule.references[].citation", "reference"),
    ("results_reference/PMID", "protocolSection.referencesModule.references[].pmid", "reference"),
    ("results_reference/citation", "protocolSection.referencesModule.references[].citation", "reference"),
    ("results_reference", "protocolSection.referencesModule.references[].type", "reference_type"),
    ("link/url", "protocolSection.referencesModule.seeAlsoLinks[].url", "text"),
    ("link/description", "protocolSection.referencesModule.seeAlsoLinks[].label", "text"),
    ("patient_data/sharing_ipd", "protocolSection.ipdSharingStatementModule.ipdSharing", "enum IPD"),
    ("patient_data/ipd_description", "protocolSection.ipdSharingStatementModule.description", "text"),
    ("patient_data/ipd_info_type", "protocolSection.ipdSharingStatementModule.infoTypes[]", "enum IPD_INFO"),
    ("patient_data/ipd_time_frame", "protocolSection.ipdSharingStatementModule.timeFrame", "text"),
    ("patient_data/ipd_access_criteria", "protocolSection.ipdSharingStatementModule.accessCriteria", "text"),
    ("required_header/download_date", "derivedSection.miscInfoModule.versionHolder", "version_holder"),
    ("condition_browse/mesh_term", "derivedSection.conditionBrowseModule.meshes[].term", "mesh"),
    ("intervention_browse/mesh_term", "derivedSection.interventionBrowseModule.meshes[].term", "mesh"),
    ("clinical_results", "hasResults", "has_results"),
]
# classic elements the emulator does not carry into v2, and why (the README lists them too)
UNMAPPED: dict[str, str] = {
    "required_header/link_text": "boilerplate of the XML export",
    "required_header/url": "the record's web address, not a v2 field",
    "last_update_submitted_qc": "v2 has no last-update QC date",
    "number_of_arms": "v2 has no arm count (it lists the arms)",
    "location_countries": "v2 has no country list apart from the locations",
    "pending_results/*": "v2's annotationSection.unpostedAnnotation has event types and a responsible party "
                         "the classic element does not state",
    "clinical_results/*": "results tables are not converted (none of the shipped records has results); "
                          "hasResults says whether the element is there",
}

_DATE_FULL = re.compile(r"^([A-Z][a-z]+) (\d{1,2}), (\d{4})$")
_DATE_MONTH = re.compile(r"^([A-Z][a-z]+) (\d{4})$")
_MONTHS = {m: i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"], start=1)}
_PROCESSED = re.compile(r"processed this data on (.+)$")


class _Ctx:
    def __init__(self, path: str):
        self.path = path

    def fail(self, where: str, what: str):
        raise CorpusError(f"{self.path}: <{where}>: {what}")

    def enum(self, table: dict, value: str, where: str):
        if value not in table:
            self.fail(where, f"value {value!r} is not in the emulator's classic -> v2 table "
                             f"({', '.join(sorted(table))})")
        return table[value]

    def date(self, value: str, where: str, partial: bool = True) -> str:
        m = _DATE_FULL.match(value)
        if m and m.group(1) in _MONTHS:
            return dt.date(int(m.group(3)), _MONTHS[m.group(1)], int(m.group(2))).isoformat()
        m = _DATE_MONTH.match(value)
        if m and m.group(1) in _MONTHS and partial:
            return f"{m.group(2)}-{_MONTHS[m.group(1)]:02d}"
        self.fail(where, f"date {value!r} is not 'Month D, YYYY'" + (" or 'Month YYYY'" if partial else ""))


def _t(el: ET.Element | None, path: str | None = None) -> str | None:
    """The stripped text of ``el`` (or of its child at ``path``); None when absent or empty."""
    if el is not None and path is not None:
        el = el.find(path)
    if el is None:
        return None
    text = "".join(el.itertext()).strip()
    return text or None


def _block(el: ET.Element | None) -> str | None:
    """A ``<textblock>``: common indentation and surrounding blank lines removed, line breaks kept."""
    if el is None:
        return None
    text = (el.text or "").replace("\r\n", "\n").replace("\r", "\n")
    lines = [ln.rstrip() for ln in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    out = textwrap.dedent("\n".join(lines))
    return out or None


def _put(obj: dict, key: str, value):
    if value is not None and value != [] and value != {}:
        obj[key] = value


def _date_struct(ctx: _Ctx, root: ET.Element, tag: str) -> dict | None:
    el = root.find(tag)
    value = _t(el)
    if value is None:
        return None
    out = {"date": ctx.date(value, tag)}
    if el.get("type"):
        out["type"] = ctx.enum(DATE_TYPE, el.get("type"), f"{tag} type")
    return out


def processed_date(root: ET.Element, path: str = "") -> dt.date | None:
    """The day of ``required_header/download_date`` ("... processed this data on July 28, 2020")."""
    text = _t(root, "required_header/download_date")
    if text is None:
        return None
    m = _PROCESSED.search(text)
    if not m:
        raise CorpusError(f"{path}: <required_header/download_date>: {text!r} names no processing date")
    return dt.date.fromisoformat(_Ctx(path).date(m.group(1).strip(), "required_header/download_date", partial=False))


_CONVERTED = {c.split("/@")[0] for c, _v, _k in FIELD_MAP}
_TYPED = {c.split("/@")[0] for c, _v, _k in FIELD_MAP if "/@type" in c}


def _check_elements(ctx: _Ctx, root: ET.Element):
    """Every element of the record is converted or listed in UNMAPPED: nothing is dropped silently."""
    def walk(el: ET.Element, path: str):
        for child in el:
            if not isinstance(child.tag, str):  # a comment
                continue
            p = f"{path}/{child.tag}" if path else child.tag
            if p in UNMAPPED or p.split("/")[0] + "/*" in UNMAPPED:
                continue
            attrs = set(child.attrib)
            if attrs and not (attrs == {"type"} and p in _TYPED):
                ctx.fail(p, f"attribute(s) {', '.join(sorted(attrs))} are not converted by the emulator")
            kids = [k for k in child if isinstance(k.tag, str)]
            if kids:
                walk(child, p)
            elif p not in _CONVERTED:
                ctx.fail(p, "element is not converted by the emulator (add it to FIELD_MAP or UNMAPPED)")
    walk(root, "")


def _contact(ctx: _Ctx, el: ET.Element) -> dict:
    c: dict = {}
    _put(c, "name", _t(el, "last_name"))
    c["role"] = "CONTACT"  # a classic contact / contact_backup is v2's role CONTACT (officials are apart)
    _put(c, "phone", _t(el, "phone"))
    _put(c, "email", _t(el, "email"))
    return c


def classic_to_v2(root: ET.Element, path: str = "") -> dict:
    """One ``<clinical_study>`` element as an API v2 study object (see the module docstring)."""
    ctx = _Ctx(path)
    if root.tag != "clinical_study":
        ctx.fail(root.tag, "root element is not <clinical_study>")
    _check_elements(ctx, root)
    nct = _t(root, "id_info/nct_id")
    if not nct or not re.fullmatch(r"NCT\d{8}", nct):
        ctx.fail("id_info/nct_id", f"missing or not an NCT number ({nct!r})")

    ident: dict = {"nctId": nct}
    org_id = _t(root, "id_info/org_study_id")
    if org_id:
        ident["orgStudyIdInfo"] = {"id": org_id}
    _put(ident, "secondaryIdInfos", [{"id": s} for s in (_t(e) for e in root.findall("id_info/secondary_id")) if s])
    src = _t(root, "source")
    if src:
        ident["organization"] = {"fullName": src}
    _put(ident, "briefTitle", _t(root, "brief_title"))
    _put(ident, "officialTitle", _t(root, "official_title"))
    _put(ident, "acronym", _t(root, "acronym"))

    status: dict = {}
    v = _t(root, "verification_date")
    _put(status, "statusVerifiedDate", ctx.date(v, "verification_date") if v else None)
    v = _t(root, "overall_status")
    _put(status, "overallStatus", ctx.enum(STATUS, v, "overall_status") if v else None)
    v = _t(root, "has_expanded_access")
    if v:
        status["expandedAccessInfo"] = {"hasExpandedAccess": ctx.enum(YES_NO, v, "has_expanded_access")}
    for key, tag in (("startDateStruct", "start_date"), ("primaryCompletionDateStruct", "primary_completion_date"),
                     ("completionDateStruct", "completion_date")):
        _put(status, key, _date_struct(ctx, root, tag))
    for key, tag in (("studyFirstSubmitDate", "study_first_submitted"),
                     ("studyFirstSubmitQcDate", "study_first_submitted_qc")):
        v = _t(root, tag)
        _put(status, key, ctx.date(v, tag, partial=False) if v else None)
    _put(status, "studyFirstPostDateStruct", _date_struct(ctx, root, "study_first_posted"))
    for key, tag in (("dispFirstSubmitDate", "disposition_first_submitted"),
                     ("dispFirstSubmitQcDate", "disposition_first_submitted_qc")):
        v = _t(root, tag)
        _put(status, key, ctx.date(v, tag, partial=False) if v else None)
    _put(status, "dispFirstPostDateStruct", _date_struct(ctx, root, "disposition_first_posted"))
    v = _t(root, "last_update_submitted")
    _put(status, "lastUpdateSubmitDate", ctx.date(v, "last_update_submitted", partial=False) if v else None)
    _put(status, "lastUpdatePostDateStruct", _date_struct(ctx, root, "last_update_posted"))

    spons: dict = {}
    rp_el = root.find("responsible_party")
    if rp_el is not None:
        rp: dict = {}
        v = _t(rp_el, "responsible_party_type")
        _put(rp, "type", ctx.enum(RESPONSIBLE, v, "responsible_party/responsible_party_type") if v else None)
        _put(rp, "investigatorFullName", _t(rp_el, "investigator_full_name"))
        _put(rp, "investigatorTitle", _t(rp_el, "investigator_title"))
        _put(rp, "investigatorAffiliation", _t(rp_el, "investigator_affiliation"))
        _put(spons, "responsibleParty", rp)

    def sponsor(el, where):
        s: dict = {}
        _put(s, "name", _t(el, "agency"))
        v = _t(el, "agency_class")
        _put(s, "class", ctx.enum(AGENCY_CLASS, v, f"{where}/agency_class") if v else None)
        return s

    lead = root.find("sponsors/lead_sponsor")
    if lead is not None:
        _put(spons, "leadSponsor", sponsor(lead, "sponsors/lead_sponsor"))
    _put(spons, "collaborators", [sponsor(c, "sponsors/collaborator") for c in root.findall("sponsors/collaborator")])

    oversight: dict = {}
    for key, tag in (("oversightHasDmc", "has_dmc"), ("isFdaRegulatedDrug", "is_fda_regulated_drug"),
                     ("isFdaRegulatedDevice", "is_fda_regulated_device")):
        v = _t(root, f"oversight_info/{tag}")
        _put(oversight, key, ctx.enum(YES_NO, v, f"oversight_info/{tag}") if v else None)

    desc: dict = {}
    _put(desc, "briefSummary", _block(root.find("brief_summary/textblock")))
    _put(desc, "detailedDescription", _block(root.find("detailed_description/textblock")))

    conds: dict = {}
    _put(conds, "conditions", [c for c in (_t(e) for e in root.findall("condition")) if c])
    _put(conds, "keywords", [k for k in (_t(e) for e in root.findall("keyword")) if k])

    design: dict = {}
    v = _t(root, "study_type")
    _put(design, "studyType", ctx.enum(STUDY_TYPE, v, "study_type") if v else None)
    v = _t(root, "phase")
    if v:
        design["phases"] = [ctx.enum(PHASE, p.strip(), "phase") for p in v.split("/")]
    di_el = root.find("study_design_info")
    if di_el is not None:
        di: dict = {}
        v = _t(di_el, "allocation")
        _put(di, "allocation", ctx.enum(ALLOCATION, v, "study_design_info/allocation") if v else None)
        v = _t(di_el, "intervention_model")
        _put(di, "interventionModel", ctx.enum(MODEL, v, "study_design_info/intervention_model") if v else None)
        _put(di, "interventionModelDescription", _t(di_el, "intervention_model_description"))
        v = _t(di_el, "primary_purpose")
        _put(di, "primaryPurpose", ctx.enum(PURPOSE, v, "study_design_info/primary_purpose") if v else None)
        v = _t(di_el, "masking")
        if v:
            m = re.fullmatch(r"([A-Za-z]+)(?: \((.*)\))?", v)
            if not m:
                ctx.fail("study_design_info/masking", f"cannot read {v!r}")
            mi: dict = {"masking": ctx.enum(MASKING, m.group(1), "study_design_info/masking")}
            _put(mi, "maskingDescription", _t(di_el, "masking_description"))
            if m.group(2) and m.group(2) != "Open Label":
                mi["whoMasked"] = [ctx.enum(WHO_MASKED, w.strip(), "study_design_info/masking")
                                   for w in m.group(2).split(",")]
            di["maskingInfo"] = mi
        _put(design, "designInfo", di)
    enr = root.find("enrollment")
    if _t(enr):
        if not re.fullmatch(r"\d+", _t(enr)):
            ctx.fail("enrollment", f"{_t(enr)!r} is not a whole number")
        info: dict = {"count": int(_t(enr))}
        if enr.get("type"):
            info["type"] = ctx.enum(DATE_TYPE, enr.get("type"), "enrollment type")
        design["enrollmentInfo"] = info

    arms_mod: dict = {}
    interventions = []
    for el in root.findall("intervention"):
        iv: dict = {}
        v = _t(el, "intervention_type")
        _put(iv, "type", ctx.enum(INTERVENTION_TYPE, v, "intervention/intervention_type") if v else None)
        _put(iv, "name", _t(el, "intervention_name"))
        _put(iv, "description", _t(el, "description"))
        _put(iv, "armGroupLabels", [a for a in (_t(e) for e in el.findall("arm_group_label")) if a])
        _put(iv, "otherNames", [a for a in (_t(e) for e in el.findall("other_name")) if a])
        interventions.append((v, iv))
    arms = []
    for el in root.findall("arm_group"):
        arm: dict = {}
        label = _t(el, "arm_group_label")
        _put(arm, "label", label)
        v = _t(el, "arm_group_type")
        _put(arm, "type", ctx.enum(ARM_TYPE, v, "arm_group/arm_group_type") if v else None)
        _put(arm, "description", _t(el, "description"))
        _put(arm, "interventionNames", [f"{typ}: {iv['name']}" for typ, iv in interventions
                                        if typ and iv.get("name") and label in iv.get("armGroupLabels", [])])
        arms.append(arm)
    _put(arms_mod, "armGroups", arms)
    _put(arms_mod, "interventions", [iv for _, iv in interventions])

    outcomes: dict = {}
    for key, tag in (("primaryOutcomes", "primary_outcome"), ("secondaryOutcomes", "secondary_outcome"),
                     ):
        rows = []
        for el in root.findall(tag):
            o: dict = {}
            _put(o, "measure", _t(el, "measure"))
            _put(o, "description", _t(el, "description"))
            _put(o, "timeFrame", _t(el, "time_frame"))
            rows.append(o)
        _put(outcomes, key, rows)

    elig: dict = {}
    el_el = root.find("eligibility")
    if el_el is not None:
        _put(elig, "eligibilityCriteria", _block(el_el.find("criteria/textblock")))
        v = _t(el_el, "healthy_volunteers")
        _put(elig, "healthyVolunteers", ctx.enum(HEALTHY, v, "eligibility/healthy_volunteers") if v else None)
        v = _t(el_el, "gender")
        _put(elig, "sex", ctx.enum(SEX, v, "eligibility/gender") if v else None)
        for key, tag in (("minimumAge", "minimum_age"), ("maximumAge", "maximum_age")):
            v = _t(el_el, tag)
            if v and v != "N/A":
                if not re.fullmatch(r"\d+ (Year|Years|Month|Months|Week|Weeks|Day|Days|Hour|Hours|Minute|Minutes)", v):
                    ctx.fail(f"eligibility/{tag}", f"{v!r} is not '<n> <unit>'")
                elig[key] = v

    contacts: dict = {}
    _put(contacts, "centralContacts", [_contact(ctx, e) for e in root.findall("overall_contact")])
    officials = []
    for el in root.findall("overall_official"):
        o: dict = {}
        _put(o, "name", _t(el, "last_name"))
        _put(o, "affiliation", _t(el, "affiliation"))
        v = _t(el, "role")
        _put(o, "role", ctx.enum(OFFICIAL_ROLE, v, "overall_official/role") if v else None)
        officials.append(o)
    _put(contacts, "overallOfficials", officials)
    locations = []
    for el in root.findall("location"):
        loc: dict = {}
        _put(loc, "facility", _t(el, "facility/name"))
        v = _t(el, "status")
        _put(loc, "status", ctx.enum(STATUS, v, "location/status") if v else None)
        for key in ("city", "state", "zip", "country"):
            _put(loc, key, _t(el, f"facility/address/{key}"))
        _put(loc, "contacts", [_contact(ctx, c) for tag in ("contact", "contact_backup") for c in el.findall(tag)])
        locations.append(loc)
    _put(contacts, "locations", locations)

    refs: dict = {}
    references = []
    for tag, rtype in (("reference", None), ("results_reference", "RESULT")):
        for el in root.findall(tag):
            r: dict = {}
            _put(r, "pmid", _t(el, "PMID"))
            if rtype:
                r["type"] = rtype
            _put(r, "citation", _t(el, "citation"))
            references.append(r)
    _put(refs, "references", references)
    links = []
    for el in root.findall("link"):
        ln: dict = {}
        _put(ln, "label", _t(el, "description"))
        _put(ln, "url", _t(el, "url"))
        links.append(ln)
    _put(refs, "seeAlsoLinks", links)

    ipd: dict = {}
    pd_el = root.find("patient_data")
    if pd_el is not None:
        v = _t(pd_el, "sharing_ipd")
        _put(ipd, "ipdSharing", ctx.enum(IPD, v, "patient_data/sharing_ipd") if v else None)
        _put(ipd, "description", _t(pd_el, "ipd_description"))
        _put(ipd, "infoTypes", [ctx.enum(IPD_INFO, t, "patient_data/ipd_info_type")
                                for t in (_t(e) for e in pd_el.findall("ipd_info_type")) if t])
        _put(ipd, "timeFrame", _t(pd_el, "ipd_time_frame"))
        _put(ipd, "accessCriteria", _t(pd_el, "ipd_access_criteria"))

    protocol: dict = {}
    for key, mod in (("identificationModule", ident), ("statusModule", status),
                     ("sponsorCollaboratorsModule", spons), ("oversightModule", oversight),
                     ("descriptionModule", desc), ("conditionsModule", conds), ("designModule", design),
                     ("armsInterventionsModule", arms_mod), ("outcomesModule", outcomes),
                     ("eligibilityModule", elig), ("contactsLocationsModule", contacts),
                     ("referencesModule", refs), ("ipdSharingStatementModule", ipd)):
        _put(protocol, key, mod)

    derived: dict = {}
    day = processed_date(root, path)
    if day:
        derived["miscInfoModule"] = {"versionHolder": day.isoformat()}
    for key, tag in (("conditionBrowseModule", "condition_browse"),
                     ("interventionBrowseModule", "intervention_browse")):
        meshes = [{"term": t} for t in (_t(e) for e in root.findall(f"{tag}/mesh_term")) if t]
        if meshes:
            derived[key] = {"meshes": meshes}
    study: dict = {"protocolSection": protocol}
    _put(study, "derivedSection", derived)
    study["hasResults"] = root.find("clinical_results") is not None
    return study


def read_classic_xml(path: Path) -> tuple[dict, dt.date | None]:
    """One classic XML file -> (v2 study object, the day the registry processed the data)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        raise CorpusError(f"{path}: line {line}, column {col}: not well-formed XML: {exc}") from None
    return classic_to_v2(root, str(path)), processed_date(root, str(path))
