"""Proposals worth reviewing, through the API: a call's own questions (set by operators), answers checked as
they are given, a readiness check by section, PDF attachments, and reviewers who declare their interests
before they score."""

from __future__ import annotations

from tests.support.api import assert_problem

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
QUESTIONS = [
    {"key": "work_plan", "required": True},
    {"key": "milestones", "required": True},
    {"key": "data_readiness"},
    {"key": "attachment", "required": True, "max_bytes": 200_000},
    {
        "key": "pilot_site",
        "kind": "choice",
        "title": "Pilot site",
        "title_de": "Pilotstandort",
        "options": ["Kiel", "Lübeck"],
        "required": True,
    },
]


def _call_with_questions(api, mode="playground"):
    call_id = api.info.call_ids[mode]
    return api.ok("PATCH", f"/calls/{call_id}", "operator", json={"questions": QUESTIONS})


def _draft(api, mode="playground", **kw):
    body = {
        "call_id": api.info.call_ids[mode],
        "title": "Sourdough demand model",
        "abstract": "Forecast sourdough demand per branch from sales and weather.",
        "requested_gpu_hours": 400,
        "resource_id": api.info.resource_ids["develop"],
        "duration_months": 2,
        **kw,
    }
    return api.ok("POST", "/proposals", "anna", json=body, status=201)


def test_operators_set_a_calls_questions_presets_by_key_and_their_own(api):
    call = _call_with_questions(api)
    by_key = {q["key"]: q for q in call["questions"]}
    assert list(by_key) == ["work_plan", "milestones", "data_readiness", "attachment", "pilot_site"]
    assert (by_key["work_plan"]["kind"], by_key["work_plan"]["title"], by_key["work_plan"]["title_de"]) == (
        "text",
        "Work plan",
        "Arbeitsplan",
    )
    assert by_key["data_readiness"]["options"][0] == "Ready and accessible" and not by_key["data_readiness"]["required"]
    assert (by_key["attachment"]["max_bytes"], by_key["pilot_site"]["options"]) == (200_000, ["Kiel", "Lübeck"])
    assert api.ok("GET", f"/calls/{call['id']}", "anna")["questions"] == call["questions"]  # applicants read them
    r = api.patch(f"/calls/{call['id']}", "anna", json={"questions": []})
    assert r.status_code == 403


def test_bad_questions_are_refused_naming_each(api):
    call_id = api.info.call_ids["playground"]
    before = api.counts()
    bad = [
        {"key": "own_question"},  # neither a standard question nor a kind and title
        {"key": "work_plan"},
        {"key": "work_plan"},  # twice
        {"key": "pick", "kind": "choice", "title": "Pick one", "options": ["only one"]},
        {"key": "attachment", "max_bytes": 900 << 20},  # over the site's limit
        {"key": "impact", "kind": "choice"},  # a standard question of another kind
    ]
    r = api.patch(f"/calls/{call_id}", "operator", json={"questions": bad})
    body = assert_problem(
        r,
        422,
        "questions.0.title",
        "questions.2.key",
        "questions.3.options",
        "questions.4.max_bytes",
        "questions.5.kind",
    )
    assert "work_plan" in str(body)
    assert api.counts() == before and api.ok("GET", f"/calls/{call_id}", "operator")["questions"] == []
    r = api.patch(f"/calls/{call_id}", "operator", json={"questions": [{"key": "Bad Key!"}]})
    assert_problem(r, 422, "questions.0.key")


def test_answers_are_checked_against_the_calls_questions_as_they_are_given(api):
    _call_with_questions(api)
    p = _draft(api)
    pid = p["id"]
    r = api.patch(f"/proposals/{pid}", "anna", json={"answers": {"nonsense": "x", "pilot_site": "Hamburg"}})
    assert_problem(r, 422, "answers.nonsense", "answers.pilot_site")
    milestones = [{"month": 3, "title": "late"}, {"month": 1, "title": "first"}]
    answers = {"work_plan": "Two phases.", "milestones": milestones, "pilot_site": "Kiel"}
    p = api.ok("PATCH", f"/proposals/{pid}", "anna", json={"answers": answers})
    assert p["answers"]["milestones"] == [{"month": 1, "title": "first"}, {"month": 3, "title": "late"}]  # in order
    p = api.ok("PATCH", f"/proposals/{pid}", "anna", json={"answers": {"pilot_site": None}})  # null removes one
    assert set(p["answers"]) == {"work_plan", "milestones"}
    r = api.patch(f"/proposals/{pid}", "anna", json={"answers": {"attachment": "a PDF please"}})
    assert_problem(r, 422, "answers.attachment")
    r = api.patch(f"/proposals/{pid}", "anna", json={"answers": {"milestones": [{"month": 0, "title": ""}]}})
    assert r.status_code == 422


def test_the_check_lists_what_submission_would_refuse_by_section_and_submit_names_it_all(api):
    _call_with_questions(api)
    pid = _draft(api, abstract="too short")["id"]
    checks = api.ok("GET", f"/proposals/{pid}/checks", "anna")
    assert checks["ready"] is False
    found = {(x["section"], x["field"]) for x in checks["problems"]}
    assert {
        ("project", "abstract"),
        ("plan", "answers.work_plan"),
        ("plan", "answers.milestones"),
        ("plan", "answers.attachment"),
        ("plan", "answers.pilot_site"),
    } <= found
    r = api.post(f"/proposals/{pid}/submit", "anna")
    assert_problem(r, 422, "abstract", "answers.work_plan", "answers.attachment", "answers.pilot_site")
    assert api.ok("GET", f"/proposals/{pid}", "anna")["status"] == "draft"
    # months after the project's end are a problem of the plan, found when the duration shrinks
    answers = {"work_plan": "Two phases.", "milestones": [{"month": 2, "title": "done"}], "pilot_site": "Kiel"}
    api.ok("PATCH", f"/proposals/{pid}", "anna", json={"answers": answers, "duration_months": 1})
    checks = api.ok("GET", f"/proposals/{pid}/checks", "anna")
    assert any("after the project's 1 months" in x["message"] for x in checks["problems"])
    assert api.get(f"/proposals/{pid}/checks", "claire").status_code == 404  # another organization's draft


def test_a_pdf_is_attached_checked_for_size_and_kind_and_read_by_who_may_read_the_proposal(api):
    _call_with_questions(api)
    pid = _draft(api)["id"]
    url = f"/proposals/{pid}/attachments/attachment"
    r = api.request("PUT", url, "anna", content=b"<html>not a pdf</html>", params={"filename": "plan.pdf"})
    assert_problem(r, 422, "attachments.attachment")
    r = api.request("PUT", url, "anna", content=PDF + b"x" * 200_000, params={"filename": "big.pdf"})
    assert_problem(r, 413)
    r = api.request("PUT", f"/proposals/{pid}/attachments/work_plan", "anna", content=PDF)
    assert r.status_code == 404 and "attachment" in r.json()["detail"]
    r = api.request("PUT", url, "claire", content=PDF)
    assert r.status_code == 404  # another organization's proposal does not exist for it
    assert api.ok("GET", f"/proposals/{pid}/attachments", "anna") == []
    a = api.ok("PUT", url, "anna", content=PDF, params={"filename": "../../Arbeitsplan 2027"})
    assert (a["key"], a["filename"], a["size_bytes"]) == ("attachment", "Arbeitsplan 2027.pdf", len(PDF))
    got = api.get(url, "anna")
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert "attachment" in got.headers["content-disposition"]
    assert api.get(url, "claire").status_code == 404
    assert api.ok("GET", f"/proposals/{pid}", "anna")["attachments"][0]["sha256"] == a["sha256"]
    replaced = api.ok("PUT", url, "anna", content=PDF + b"% v2\n", params={"filename": "v2.pdf"})
    assert replaced["filename"] == "v2.pdf" and api.get(url, "anna").content.endswith(b"% v2\n")
    assert api.request("DELETE", url, "anna").status_code == 204
    assert api.get(url, "anna").status_code == 404


def test_a_complete_proposal_is_submitted_and_its_reviewer_reads_the_attachment(api):
    _call_with_questions(api, "fast_lane")
    api.ok("PATCH", f"/calls/{api.info.call_ids['fast_lane']}", "operator", json={"questions": QUESTIONS[:2]})
    pid = _draft(api, "fast_lane", requested_gpu_hours=5_000)["id"]
    answers = {"work_plan": "Two phases.", "milestones": [{"month": 2, "title": "model in production"}]}
    api.ok("PATCH", f"/proposals/{pid}", "anna", json={"answers": answers})
    assert api.ok("GET", f"/proposals/{pid}/checks", "anna") == {"ready": True, "problems": [], "waiting_for": []}
    assert api.ok("POST", f"/proposals/{pid}/submit", "anna")["status"] == "submitted"
    r = api.patch(f"/proposals/{pid}", "anna", json={"answers": {"work_plan": "changed"}})
    assert r.status_code == 409  # submitted: no more changes
    reviewer = api.user_id("schulz")
    api.ok("POST", f"/proposals/{pid}/reviewers", "operator", json={"reviewer_ids": [reviewer]})
    seen = api.ok("GET", f"/proposals/{pid}", "schulz")
    assert seen["answers"] == answers


def test_reviewers_declare_their_interests_before_they_score(api):
    pid = api.pid("medvision")  # under review, Schulz assigned
    scores = {"scores": {"excellence": 4, "impact": 4, "feasibility": 4}}
    r = api.post(f"/proposals/{pid}/reviews", "schulz", json=scores)
    assert_problem(r, 409, detail="declare your interests first")
    r = api.post(f"/proposals/{pid}/declaration", "schulz", json={"conflict": True})
    assert_problem(r, 422, "note")
    assert api.post(f"/proposals/{pid}/declaration", "novak", json={"conflict": False}).status_code in (403, 404)
    a = api.ok("POST", f"/proposals/{pid}/declaration", "schulz", json={"conflict": False})
    assert a["declared_at"] is not None and a["conflict"] is False
    assert api.ok("POST", f"/proposals/{pid}/reviews", "schulz", json=scores, status=201)["mean_score"] == 4
    r = api.post(f"/proposals/{pid}/declaration", "schulz", json={"conflict": True, "note": "too late"})
    assert r.status_code == 409  # the review is in: the declaration was made then


def test_a_reviewer_who_declares_a_conflict_is_recused(api):
    pid = api.pid("medvision")
    note = "I advised MedVision's founders last year."
    a = api.ok("POST", f"/proposals/{pid}/declaration", "schulz", json={"conflict": True, "note": note})
    assert (a["conflict"], a["conflict_note"]) == (True, note)
    r = api.post(
        f"/proposals/{pid}/reviews",
        "schulz",
        json={"scores": {"excellence": 5, "impact": 5, "feasibility": 5}, "declare_no_conflict": True},
    )
    assert_problem(r, 403, detail="conflict of interest")
    assert api.ok("GET", f"/proposals/{pid}/reviews", "operator") == []
    # the operators are told, to assign another reviewer; the applicants are not
    told = [n for n in api.ok("GET", "/notifications", "operator")["items"] if n["event"] == "reviewer-recused"]
    assert len(told) == 1 and told[0]["path"] == f"/operator/proposals/{pid}"
    assert "Prof. Maria Schulz declared a conflict of interest" in told[0]["message"]
    assert not [n for n in api.ok("GET", "/notifications", "claire")["items"] if n["event"] == "reviewer-recused"]
