"""Templates for the starter dataset (make_starter.py): pets, vets, event families, general questions.

An event is (kind, "owner wording | another wording"): the note as an owner might log it, which
the answer retells word for word after its date. "none" lists questions the journal has no record
for, with the facts the answer gives. Slots: {name} {vet} {other} {he} {his} {him} {He} {His}.
Every fact id must exist in knowledge.jsonl (tests check).
"""

PETS = [("Mochi", "f"), ("Luna", "f"), ("Tigger", "m"), ("Biscuit", "m"), ("Pepper", "f"), ("Oscar", "m"),
        ("Nala", "f"), ("Simba", "m"), ("Miso", "m"), ("Cleo", "f"), ("Jasper", "m"), ("Olive", "f"),
        ("Ziggy", "m"), ("Poppy", "f"), ("Milo", "m"), ("Hazel", "f"), ("Toby", "m"), ("Maple", "f"),
        ("Felix", "m"), ("Juniper", "f"), ("Leo", "m"), ("Saffron", "f"), ("Pumpkin", "m"), ("Willow", "f"),
        ("Smokey", "m"), ("Bella", "f"), ("Gizmo", "m"), ("Kiki", "f"), ("Otis", "m"), ("Tofu", "m"),
        ("Sushi", "f"), ("Ginger", "m"), ("Nori", "f"), ("Socks", "m"), ("Coco", "f"), ("Bao", "m"),
        ("Yuki", "f"), ("Ravi", "m"), ("Pixel", "f"), ("Mango", "m"), ("Clementine", "f"), ("Arlo", "m")]

VETS = ["Tanaka", "Okafor", "Lindqvist", "Moreau", "Patel", "Alvarez", "Nguyen", "Brennan", "Kowalski",
        "Haddad", "Fischer", "Mensah", "Sato", "Rossi", "Evans", "Castillo", "Ibrahim", "Novak",
        "O'Neill", "Chen", "Adeyemi", "Varga"]

HOUSEHOLD_NOTES = ["Pet insurance renewed for another year.", "Bought a new cat bed for the living room.",
             "Vet clinic changed its opening hours.", "Cat sitter booked for the summer holiday.",
             "New window screens fitted upstairs."]

FAMILIES = [
    {"label": ("sneezing episode", "sneezing episodes"),
     "facts": ["respiratory-cat-flu", "respiratory-herpes-flares", "respiratory-lysine", "respiratory-when-vet",
               "respiratory-home-care"],
     "events": [
         ("vet_visit", "Sneezing and watery eyes. Dr. {vet} says it's a herpesvirus flare, prescribed L-lysine paste."
          " | Vet visit with Dr. {vet}: herpes flare-up, lots of sneezing. Sent home with L-lysine."),
         ("symptom", "Sneezing again since the move, clear discharge. Cleared up after about a week."
          " | Sneezy for a week after we moved, clear snot only, then fine."),
         ("symptom", "Sneezed five or six times this morning, otherwise eating and playing normally."
          " | A few sneezes today. Still eating well and playful."),
         ("vet_visit", "Cat flu: sneezing, temperature, off {his} food. Dr. {vet} gave doxycycline for 10 days."
          " | Dr. {vet} saw {him} for sneezing with a fever and poor appetite; doxycycline for 10 days."),
         ("symptom", "Came back from the cattery sneezing, left eye runny. | Sneezing after boarding, one runny eye."),
         ("symptom", "Sneezy and snuffly, sat with {him} in the steamy bathroom, better in 3 days."
          " | Blocked nose, steam from the shower helped, fine after three days.")],
     "history": [("Yes", "{name} is sneezing again, has this happened before?"),
                 ("Yes", "Has {name} had sneezing fits before?"),
                 ("No", "Is this the first time {name} has been sneezy?"),
                 ("", "What's {name}'s history with sneezing or cat flu?"),
                 ("Yes", "{name} has a runny nose and keeps sneezing. Any history of this?")],
     "latest": ["When did {name} last have a sneezing episode?", "When was the last time {name} was sneezing like this?",
                "What happened the last time {name} had cat flu symptoms?"],
     "none": [("Has {name} ever had cat flu?", ["respiratory-cat-flu", "respiratory-when-vet"]),
              ("{name} sneezed a few times today. Has it happened before?", ["respiratory-when-vet"]),
              ("Has {name} had a runny nose before?", ["respiratory-cat-flu", "respiratory-home-care"]),
              ("Has {name} ever been given lysine?", ["respiratory-lysine"])]},
    {"label": ("vomiting episode", "vomiting episodes"),
     "facts": ["vomiting-when-vet", "vomiting-chronic", "vomiting-fast-eaters", "hairballs-frequency",
               "hairballs-brushing"],
     "events": [
         ("symptom", "Threw up a hairball after a long grooming session. | Hairball on the rug this morning."),
         ("symptom", "Vomited breakfast about ten minutes after eating, ate too fast."
          " | Scarfed breakfast and threw it back up undigested."),
         ("vet_visit", "Vomiting on and off for two weeks; Dr. {vet} ran bloods (normal) and suggested a"
          " sensitive-stomach diet. | Dr. {vet}: bloods normal, try a sensitive diet for the on-off vomiting."),
         ("symptom", "Vomited some grass in the garden, fine afterwards. | Ate grass, sicked it up, carried on as normal."),
         ("symptom", "Sick twice overnight, bright and eating in the morning."
          " | Two piles of sick in the night; eating normally at breakfast."),
         ("symptom", "Threw up yellow foam before breakfast. | Yellow foamy vomit early morning, empty stomach.")],
     "history": [("Yes", "{name} just threw up. Has this happened before?"), ("Yes", "Has {name} vomited before?"),
                 ("No", "Is this the first time {name} has been sick?"), ("", "What's {name}'s history of vomiting?")],
     "latest": ["When did {name} last vomit?", "When was the last time {name} threw up?"],
     "none": [("Has {name} ever had hairballs?", ["hairballs-frequency", "hairballs-brushing"]),
              ("Has {name} vomited before?", ["vomiting-when-vet"]),
              ("{name} threw up this morning. Has that happened before?",
               ["vomiting-when-vet", "vomiting-chronic"])]},
    {"label": ("litter box or bladder note", "litter box or bladder notes"),
     "facts": ["urinary-signs", "urinary-cystitis", "urinary-prevention", "litter-medical-first", "litter-clean"],
     "events": [
         ("litter", "Peed on the bathmat twice today. | Found pee outside the litter box, on the bathmat."),
         ("vet_visit", "Dr. {vet}: cystitis, no crystals, no infection. Advised more wet food and a water fountain."
          " | Cystitis per Dr. {vet} (urine clear of crystals and bacteria). More wet food, get a fountain."),
         ("vet_visit", "Struvite crystals in the urine sample, Dr. {vet} started a urinary diet."
          " | Urine test showed struvite crystals; prescription urinary food from Dr. {vet}."),
         ("litter", "Lots of small pee clumps and many trips to the box. Vet same day: cystitis, pain relief given."
          " | Going to the box every hour, small clumps. Seen same day, cystitis, pain relief."),
         ("litter", "Started peeing beside the box after the litter change; switched back and it stopped."
          " | Didn't like the new pine litter, peed next to the box. Back to the old litter, problem gone."),
         ("litter", "Pee clumps much bigger than usual this week. | Big pee clumps lately, bigger than normal.")],
     "history": [("Yes", "Has {name} had litter box problems before?"),
                 ("Yes", "{name} peed outside the box again. Has this happened before?"),
                 ("", "What's {name}'s history with bladder or litter box issues?")],
     "latest": ["When did {name} last have a litter box problem?", "What's the most recent litter box note for {name}?"],
     "none": [("Has {name} ever had cystitis?", ["urinary-cystitis", "urinary-signs"]),
              ("Has {name} peed outside the box before?", ["litter-medical-first"]),
              ("Has {name} had urinary crystals?", ["urinary-crystals"]),
              ("Has {name} ever strained in the litter box?", ["urinary-blockage"])]},
    {"label": ("appetite note", "appetite notes"),
     "facts": ["appetite-warm-food", "appetite-24-hours", "appetite-no-starving", "appetite-mouth-pain",
               "vet-not-eating"],
     "events": [
         ("appetite", "Only ate half of breakfast, finished it by lunch. | Slow with breakfast, finished it later."),
         ("appetite", "Skipped dinner, ate normally next morning. | Left dinner untouched; normal breakfast next day."),
         ("appetite", "Turned {his} nose up at the new chicken food; went back to the old brand and {he} ate."
          " | Refused the new chicken recipe. Old food back, eating again."),
         ("appetite", "Eating less in the heatwave, still drinking. | Appetite down in the hot weather, drinking fine."),
         ("appetite", "Picky for two days after the move, then back to normal."
          " | Fussy with food for 2 days after moving house, fine by day 3."),
         ("vet_visit", "Eating less, Dr. {vet} found a sore tooth. Tooth removed, appetite back."
          " | Dr. {vet}: poor appetite due to a painful tooth, extracted. Eating well since.")],
     "history": [("Yes", "{name} is picky with food today. Has {he} gone off food before?"),
                 ("Yes", "Has {name} had appetite problems before?"), ("", "What's {name}'s eating history been like?")],
     "latest": ["When did {name} last go off {his} food?", "When was the last appetite problem for {name}?"],
     "none": [("Has {name} ever refused food?", ["appetite-24-hours", "appetite-warm-food"]),
              ("Has {name} gone off {his} food before?", ["appetite-24-hours"]),
              ("Has {name} ever been picky about a new food?",
               ["feeding-gradual-change", "appetite-no-starving"])]},
    {"label": ("dental note", "dental notes"),
     "facts": ["dental-signs", "dental-resorption", "dental-brushing", "dental-anaesthesia", "dental-hidden-pain"],
     "events": [
         ("vet_visit", "Dental cleaning under anaesthetic with Dr. {vet}, two teeth removed for resorption."
          " | Dental day: scale and polish under GA, 2 resorptive teeth extracted (Dr. {vet})."),
         ("dental", "Bad breath and red gums along the back teeth. | {name}'s breath smells bad, gums look red."),
         ("vet_visit", "Annual check: Dr. {vet} noted tartar on the back teeth, recommends a dental cleaning this year."
          " | Dr. {vet} saw tartar at the yearly check and suggested a dental cleaning within the year."),
         ("dental", "Started brushing teeth with cat toothpaste, {he} tolerates about 30 seconds."
          " | First tooth brushing with pet toothpaste, 30 seconds before {he} wriggled off."),
         ("dental", "Dropping food and chewing on one side. | Chewing only on the left and dropping kibble."),
         ("vet_visit", "Broken canine tooth, Dr. {vet} extracted it. | Dr. {vet} took out a fractured canine.")],
     "history": [("Yes", "Has {name} had dental problems before?"), ("", "What's {name}'s dental history?"),
                 ("Yes", "{name} seems to have a sore mouth. Any dental history?")],
     "latest": ["What's the latest note about {name}'s teeth?", "When did {name} last have a dental problem noted?"],
     "none": [("Has {name} had a dental cleaning?", ["dental-anaesthesia", "dental-hidden-pain"]),
              ("Has {name} ever had a tooth removed?", ["dental-resorption"]),
              ("Have we noted anything about {name}'s teeth?", ["dental-signs", "dental-brushing"])]},
    {"label": ("vaccine", "vaccines"),
     "facts": ["vaccines-core", "vaccines-adult-interval", "vaccines-reactions", "vaccines-felv"],
     "events": [
         ("vaccine", "FVRCP booster at Dr. {vet}'s, no reaction. | Annual check and FVRCP booster with Dr. {vet}, all fine."),
         ("vaccine", "Rabies vaccine, 3-year product. | Rabies jab done (3-year vaccine)."),
         ("vaccine", "FeLV vaccine, first of two doses. | First feline leukaemia jab; second due in a few weeks."),
         ("vaccine", "Vaccines today, sleepy and off food for the evening, fine next day."
          " | Booster day. Quiet and not hungry that evening, back to normal in the morning."),
         ("vaccine", "Core vaccines (FVRCP) at the yearly check with Dr. {vet}. | Yearly check, FVRCP jab from Dr. {vet}."),
         ("vaccine", "FeLV booster, small lump at the injection site. | Leukaemia booster; a pea-sized lump after.")],
     "history": [("", "What vaccines has {name} had?"), ("", "What's {name}'s vaccine history?"),
                 ("Yes", "Has {name} had any vaccines?")],
     "latest": ["When was {name} last vaccinated?", "When was {name}'s most recent vaccine?"],
     "none": [("Has {name} had the rabies vaccine?", ["vaccines-core"]),
              ("Is {name} vaccinated against feline leukaemia?", ["vaccines-felv"]),
              ("When was {name} last vaccinated?", ["vaccines-core", "vaccines-adult-interval"])]},
    {"label": ("parasite treatment note", "parasite treatment notes"),
     "facts": ["parasites-fleas-home", "parasites-cat-products", "parasites-tapeworm", "parasites-worming-schedule"],
     "events": [
         ("medication", "Flea spot-on (the cat one from the vet) applied between the shoulder blades."
          " | Monthly flea treatment done, cat spot-on from Dr. {vet}."),
         ("symptom", "Saw fleas on {name}; treated all pets, washed bedding, vacuumed."
          " | Flea dirt in the comb. Treated everyone and hot-washed the bedding."),
         ("medication", "Wormed with a tablet from Dr. {vet}. | Worming tablet given, hidden in a treat."),
         ("symptom", "Rice-like segments near {his} tail; Dr. {vet} gave praziquantel for tapeworm."
          " | Tapeworm bits by the tail. Praziquantel from Dr. {vet}."),
         ("vet_visit", "Head shaking, dark ear wax; Dr. {vet} found ear mites and gave ear drops."
          " | Dr. {vet}: ear mites. Drops for both ears.")],
     "history": [("", "When has {name} had flea or worm treatment?"), ("", "What's {name}'s flea and worming history?"),
                 ("Yes", "Has {name} been treated for fleas or worms before?")],
     "latest": ["What's the most recent parasite note for {name}?", "When was {name} last treated for parasites?"],
     "none": [("Has {name} ever had fleas?", ["parasites-fleas-home", "parasites-cat-products"]),
              ("When was {name} last wormed?", ["parasites-worming-schedule"]),
              ("Has {name} had ear mites?", ["parasites-ear-mites"])]},
    {"label": ("bout of diarrhoea", "bouts of diarrhoea"),
     "facts": ["diarrhoea-when-vet", "diarrhoea-water", "diarrhoea-causes", "feeding-gradual-change"],
     "events": [
         ("symptom", "Soft stool after switching to the new food. | Poop soft and smelly since the food change."),
         ("vet_visit", "Diarrhoea for two days, Dr. {vet} gave a probiotic paste and a bland diet. Firm again by day four."
          " | Two days of runny poo; probiotic and bland food from Dr. {vet}, normal by day 4."),
         ("symptom", "Loose stool after the cattery stay, settled in two days. | Runny poo after boarding, fine in 2 days."),
         ("vet_visit", "Stool sample positive for giardia; Dr. {vet} prescribed fenbendazole for 5 days."
          " | Giardia on the faecal test. Fenbendazole 5 days (Dr. {vet})."),
         ("symptom", "Drank milk from a cereal bowl, loose stool later. | Got into the milk, diarrhoea that evening.")],
     "history": [("Yes", "{name} has diarrhoea. Has this happened before?"), ("Yes", "Has {name} had loose stools before?"),
                 ("", "What's {name}'s history with diarrhoea?")],
     "latest": ["When did {name} last have diarrhoea?", "When was {name}'s last bout of loose stool?"],
     "none": [("Has {name} had diarrhoea before?", ["diarrhoea-when-vet", "diarrhoea-water"]),
              ("Has {name} ever had giardia?", ["diarrhoea-causes"])]},
    {"label": ("kidney note", "kidney notes"),
     "facts": ["kidney-signs", "kidney-diet", "kidney-water", "kidney-staging", "kidney-blood-pressure"],
     "events": [
         ("vet_visit", "Bloods: creatinine slightly high, SDMA 19. Dr. {vet} says early kidney disease, IRIS stage 2."
          " | Dr. {vet}: CKD stage 2 (creatinine a bit high, SDMA 19)."),
         ("note", "Started the prescription kidney diet, mixing it in over a week."
          " | Renal food started, mixed with the old food over 7 days."),
         ("symptom", "Drinking a lot more, water bowl empty by evening. | Drinking loads lately, bowl empty by night."),
         ("vet_visit", "Kidney recheck: values stable, blood pressure normal (Dr. {vet})."
          " | Dr. {vet} rechecked kidneys. Stable, BP normal."),
         ("note", "Bought a water fountain, {he} drinks from it often. | Water fountain set up, {he} loves it."),
         ("vet_visit", "Urine test: dilute urine, no infection. Dr. {vet} wants bloods in a month."
          " | Dr. {vet}: urine dilute, no infection; blood test in a month.")],
     "history": [("", "What do we know about {name}'s kidneys?"), ("", "What's {name}'s kidney history?"),
                 ("Yes", "Has anything about {name}'s kidneys or drinking been noted before?")],
     "latest": ["What's the latest on {name}'s kidneys?", "When was {name}'s kidney health last noted?"],
     "none": [("Has {name} had kidney bloodwork?", ["kidney-staging", "kidney-signs"]),
              ("Has {name} been drinking more than usual before?", ["hydration-thirst"])]},
    {"label": ("stress note", "stress notes"),
     "facts": ["stress-signs", "stress-safe-room", "stress-pheromones", "behaviour-needs", "moving-base-room"],
     "events": [
         ("behaviour", "Hid under the bed for two days after the move, then started exploring."
          " | After the move: under the bed for 2 days, came out on day 3."),
         ("behaviour", "Overgrooming {his} belly since the baby arrived; pheromone diffuser plugged in, improving."
          " | Licking {his} tummy thin since the baby came home. Diffuser on, getting better."),
         ("behaviour", "Scratching the sofa arm; put a tall sisal post next to it and {he} switched."
          " | Sofa scratching. Tall sisal post beside the sofa, {he} uses that now."),
         ("behaviour", "Hid during the fireworks, came out after midnight. | Fireworks night: in the wardrobe till late."),
         ("behaviour", "Spraying by the front door after a neighbour's cat appeared at the window. Blocked the view, stopped."
          " | Sprayed near the door when a strange cat sat outside; frosted the window and the spraying stopped."),
         ("behaviour", "Yowling at night for a week after the cattery. | Noisy at night for about a week after boarding.")],
     "history": [("Yes", "{name} is hiding a lot today. Has {he} been stressed like this before?"),
                 ("", "How has {name} handled stressful changes before?"), ("Yes", "Has {name} had behaviour problems before?")],
     "latest": ["When was {name} last stressed?", "What was the last behaviour note for {name}?"],
     "none": [("How did {name} cope with the last move?", ["moving-base-room", "moving-appetite"]),
              ("Has {name} ever sprayed indoors?", ["stress-signs", "litter-medical-first"]),
              ("Has {name} been scared of fireworks before?", ["stress-fireworks"])]},
    {"label": ("grooming note", "grooming notes"),
     "facts": ["grooming-brushing", "grooming-mats", "grooming-claws", "grooming-stops"],
     "events": [
         ("grooming", "Mats behind the ears, groomer clipped them out. | Groomer clipped the mats behind {his} ears."),
         ("grooming", "Claws trimmed, {he} let me do the front paws only. | Trimmed the front claws, back ones next time."),
         ("grooming", "Heavy shedding, brushed daily this week. | Spring moult: brushing every day."),
         ("vet_visit", "Coat greasy along the back, grooming less. Dr. {vet} found arthritis in the spine, started pain relief."
          " | Dr. {vet}: scruffy back coat from stiff spine (arthritis), pain relief started."),
         ("grooming", "Lion cut at the groomer for the summer. | Full clip at the groomer's, summer cut."),
         ("grooming", "Dr. {vet} advised a bath with cat shampoo after {he} rolled in something sticky."
          " | Bathed {him} with cat shampoo (Dr. {vet}'s advice) after a sticky mess.")],
     "history": [("", "What grooming has {name} had?"), ("", "Tell me about {name}'s grooming history."),
                 ("Yes", "Have we done any grooming for {name} before?")],
     "latest": ["When was {name} last groomed?", "What's the latest grooming note for {name}?"],
     "none": [("When were {name}'s claws last trimmed?", ["grooming-claws"]),
              ("Has {name} had mats before?", ["grooming-mats", "grooming-brushing"]),
              ("Has {name} been to a groomer?", ["grooming-brushing"])]},
    {"label": ("prescription", "prescriptions"),
     "facts": ["medication-as-prescribed", "medication-water-after", "medication-hiding-pills", "medication-log"],
     "events": [
         ("medication", "Started methimazole 2.5 mg twice a day for hyperthyroidism (Dr. {vet})."
          " | Dr. {vet}: methimazole 2.5 mg, one tablet morning and evening, for the thyroid."),
         ("medication", "Amoxicillin-clavulanate 50 mg twice daily for 7 days for a tooth abscess."
          " | Antibiotics (amoxicillin-clavulanate 50 mg) twice a day for a week, tooth abscess."),
         ("medication", "Gabapentin 100 mg two hours before vet visits to keep {him} calm (Dr. {vet})."
          " | Dr. {vet} prescribed gabapentin 100 mg, give 2 hours before any vet trip."),
         ("medication", "Metacam oral suspension for arthritis, once daily with food, dose by the syringe marks."
          " | Dr. {vet} started Metacam for stiff hips, once a day with food."),
         ("medication", "Insulin 1 unit twice a day, 12 hours apart, after meals. | Diabetic: 1 unit insulin after"
          " breakfast and after dinner, 12 h apart."),
         ("medication", "Amlodipine 0.625 mg once daily for high blood pressure (Dr. {vet})."
          " | Blood pressure high, amlodipine 0.625 mg every morning."),
         ("medication", "Mirtazapine ointment on the inner ear once a day for 14 days to help appetite."
          " | Dr. {vet}: appetite ointment (mirtazapine) on the ear flap daily for two weeks.")],
     "history": [("", "What medication has {name} been on?"), ("", "What's {name}'s medication schedule?"),
                 ("", "What did the vet prescribe for {name}?"), ("Yes", "Has {name} been on any medication before?")],
     "latest": ["What was the last medication {name} was started on?", "What's the most recent prescription for {name}?"],
     "none": [("Has {name} ever been on antibiotics?", ["medication-as-prescribed"]),
              ("Is {name} on any medication?", ["medication-no-human", "medication-log"]),
              ("Has {name} had pain relief before?", ["medication-no-human", "toxins-paracetamol"])]},
    {"label": ("senior health note", "senior health notes"),
     "facts": ["senior-checkups", "senior-arthritis", "senior-home-comfort", "senior-thyroid", "vet-checkups"],
     "events": [
         ("vet_visit", "Senior check with Dr. {vet}: weight stable, blood pressure 140, bloods normal."
          " | 6-month senior check (Dr. {vet}): all normal, BP 140."),
         ("vet_visit", "T4 high, Dr. {vet} diagnosed hyperthyroidism. | Thyroid test high, hyperthyroid per Dr. {vet}."),
         ("behaviour", "Not jumping onto the bed anymore, stiff in the mornings. | Stiff when getting up, stopped jumping on the bed."),
         ("note", "Put a ramp by the sofa and a low-sided litter box in the hall."
          " | Added a ramp to the sofa and a low-entry litter tray."),
         ("behaviour", "Yowling at night, seems confused at times. | Night yowling and a bit muddled lately."),
         ("vet_visit", "Dr. {vet}: arthritis in both hips on X-ray, started monthly Solensia injections."
          " | Hip arthritis on X-rays; Solensia jab monthly (Dr. {vet}).")],
     "history": [("", "What do we know about {name}'s health as {he} gets older?"),
                 ("", "What's {name}'s senior health history?")],
     "latest": ["What's the latest on {name}'s senior care?", "When was the last senior health note for {name}?"],
     "none": [("Has {name} had a senior check-up?", ["senior-checkups"]),
              ("Has {name} been checked for arthritis?", ["senior-arthritis"]),
              ("Has {name}'s thyroid been tested?", ["senior-thyroid"])]},
    {"label": ("note about {name} and {other}", "notes about {name} and {other}"),
     "facts": ["intro-slow", "intro-resources", "intro-hissing"],
     "events": [
         ("behaviour", "{other} arrived; {name} has {his} own room, swapping blankets between them."
          " | New cat {other} home today. Kept apart, swapping bedding for scent."),
         ("behaviour", "First meeting with {other} through the baby gate, some hissing, then both ate treats."
          " | Baby-gate meeting with {other}: hissed at first, then ate treats on either side."),
         ("behaviour", "{name} and {other} shared the sofa for the first time. | First time {name} and {other} napped on the same sofa."),
         ("behaviour", "Swatted {other} at the food bowl; added a second feeding station."
          " | Food-bowl squabble with {other}, so now two separate feeding spots."),
         ("behaviour", "{other} came back from the vet smelling different, {name} hissed at {other} for a day."
          " | Hissed at {other} after {other}'s vet trip; fine next day.")],
     "history": [("", "How has {name} got on with {other}?"), ("", "How did the introduction between {name} and {other} go?"),
                 ("Yes", "Has {name} had trouble with {other} before?")],
     "latest": ["What's the latest between {name} and {other}?", "How are {name} and {other} getting on lately?"],
     "none": [("Has {name} lived with other cats?", ["intro-slow", "intro-testing"]),
              ("How did {name} react to a new cat before?", ["intro-slow", "intro-hissing"])]},
]

# Weight is numeric, so make_starter builds its records in code; these are its words.
WEIGHT = {
    "notes": ["Weighed {kg} kg on the kitchen scale.", "Vet weigh-in with Dr. {vet}: {kg} kg.",
              "{kg} kg today (weighed myself holding {him}, then subtracted).", "Weight check: {kg} kg.",
              "{name} is {kg} kg on the baby scale."],
    "history": [("", "How has {name}'s weight changed?"), ("loss", "Is {name} losing weight?"),
                ("gain", "Is {name} gaining weight?"), ("", "What are {name}'s weights over time?"),
                ("", "Can you show me {name}'s weight trend?")],
    "latest": ["What was {name}'s last weight?", "How much did {name} weigh most recently?"],
    "none": [("Have we weighed {name} before?", ["weight-body-condition", "weight-unplanned-loss"]),
             ("Is {name} overweight?", ["weight-body-condition", "weight-overweight"])],
    "facts": {"loss": ["weight-unplanned-loss"], "big_loss": ["weight-ten-percent", "weight-unplanned-loss"],
              "gain": ["weight-measure-food", "weight-overweight", "weight-body-condition"],
              "steady": ["weight-body-condition"]},
}

# General questions: (question, lead sentence or "", fact ids the answer restates).
GENERAL = [
    [("Are lilies dangerous for cats?", "Yes, very.", ["toxins-lily", "toxins-lily-home"]),
     ("Can I keep lilies in the house with a cat?", "No.", ["toxins-lily", "toxins-lily-home"])],
    [("What should I do if my cat chewed a lily?", "", ["toxins-lily-act-fast", "toxins-lily"])],
    [("Can I use my dog's flea treatment on my cat?", "No.", ["toxins-permethrin", "toxins-permethrin-contact"]),
     ("Is dog flea medicine safe for cats?", "No.", ["toxins-permethrin"])],
    [("Can I give my cat paracetamol for pain?", "No.", ["toxins-paracetamol", "medication-no-human"]),
     ("What painkiller can I give my cat at home?", "None without your vet.", ["toxins-paracetamol", "medication-no-human"])],
    [("Is garlic bad for cats?", "Yes.", ["toxins-onion-garlic"]),
     ("Can cats eat food cooked with onions?", "It is best not to.", ["toxins-onion-garlic"])],
    [("Is tea tree oil safe for cats?", "No.", ["toxins-essential-oils"]),
     ("Can I use essential oils around my cat?", "Be careful.", ["toxins-essential-oils"])],
    [("Why is antifreeze dangerous for cats?", "", ["toxins-antifreeze", "toxins-what-to-do"])],
    [("What should I do if I think my cat was poisoned?", "", ["toxins-what-to-do", "vet-emergencies"]),
     ("Are rat poisons dangerous to cats?", "Yes.", ["toxins-rodenticide", "toxins-what-to-do"])],
    [("Can I give my cat milk?", "It is best not to.", ["feeding-milk"]),
     ("Is milk good for cats?", "Not really.", ["feeding-milk"])],
    [("How should I switch my cat to a new food?", "", ["feeding-gradual-change"]),
     ("What's the best way to change cat food brands?", "", ["feeding-gradual-change", "appetite-no-starving"])],
    [("How often should I feed my cat?", "", ["feeding-small-meals"]),
     ("My cat gulps food too fast, what helps?", "", ["vomiting-fast-eaters", "feeding-small-meals"])],
    [("Can my cat be vegetarian?", "No.", ["feeding-complete-diet"]),
     ("Can cats eat dog food?", "Not as their diet.", ["feeding-complete-diet"])],
    [("How many treats can my cat have?", "", ["feeding-treats", "weight-overweight"])],
    [("How can I get my cat to drink more water?", "", ["hydration-bowls", "hydration-wet-food"]),
     ("My cat doesn't drink much, is that a problem?", "", ["hydration-wet-food", "hydration-bowls"])],
    [("Why would a cat start drinking a lot more?", "", ["hydration-thirst", "kidney-signs"]),
     ("Is it normal for an older cat to drink more?", "Not always.", ["hydration-thirst"])],
    [("How many litter boxes do I need for two cats?", "Three is a good number.", ["litter-number", "litter-clean"]),
     ("Where should I put the litter box?", "", ["litter-number"])],
    [("What kind of litter do cats like best?", "", ["litter-preferences"]),
     ("Should I use scented litter?", "Usually not.", ["litter-preferences", "litter-clean"])],
    [("Why is my cat peeing outside the litter box?", "", ["litter-medical-first", "urinary-signs"]),
     ("My cat started peeing on the bath mat, what should I do?", "", ["litter-medical-first", "litter-clean"])],
    [("Why is straining to pee an emergency in male cats?", "", ["urinary-blockage"]),
     ("What are the signs of a bladder problem in cats?", "", ["urinary-signs", "urinary-blockage"])],
    [("How can I stop cystitis coming back?", "", ["urinary-prevention", "urinary-cystitis"]),
     ("Can a special diet dissolve bladder stones?", "Sometimes.", ["urinary-crystals"])],
    [("Which vaccines does a cat need?", "", ["vaccines-core", "vaccines-adult-interval"]),
     ("Does my cat need a booster every year?", "Not always.", ["vaccines-adult-interval"])],
    [("When should a kitten be vaccinated?", "", ["vaccines-kittens", "vaccines-felv"])],
    [("Is it normal for a cat to be sleepy after vaccines?", "Often, yes.", ["vaccines-reactions"]),
     ("What vaccine reactions should worry me?", "", ["vaccines-reactions"])],
    [("Are hairballs normal?", "Sometimes.", ["hairballs-frequency", "hairballs-brushing"]),
     ("My cat retches but nothing comes up, could it be a hairball?", "It can be.", ["hairballs-blockage"])],
    [("Does a kidney diet help cats with kidney disease?", "Yes.", ["kidney-diet", "kidney-water"]),
     ("What do the kidney disease stages mean?", "", ["kidney-staging", "kidney-blood-pressure"])],
    [("How do I know if my cat has dental problems?", "", ["dental-signs", "dental-hidden-pain"]),
     ("Does my cat really need anaesthesia for a dental cleaning?", "Yes.", ["dental-anaesthesia"])],
    [("Can I brush my cat's teeth with my toothpaste?", "No.", ["dental-brushing"]),
     ("Why would a cat need teeth removed?", "", ["dental-resorption", "dental-anaesthesia"])],
    [("How do I stop my cat scratching the sofa?", "", ["behaviour-scratching", "behaviour-no-punishment"])],
    [("Why has my cat suddenly become grumpy?", "", ["behaviour-sudden-change", "stress-signs"]),
     ("How do I keep an indoor cat happy?", "", ["behaviour-needs"])],
    [("Why is my cat licking its fur bald?", "", ["behaviour-overgrooming"]),
     ("What are signs of stress in cats?", "", ["stress-signs", "stress-safe-room"])],
    [("Do pheromone diffusers work for cats?", "They may help some cats.", ["stress-pheromones"]),
     ("How do I help my cat through fireworks?", "", ["stress-fireworks", "stress-safe-room"])],
    [("How do I move house with a cat?", "", ["moving-base-room", "moving-indoors"]),
     ("Is it normal for my cat to eat less after a move?", "For a day or two, yes.", ["moving-appetite"])],
    [("How should I introduce a new kitten to my cat?", "", ["intro-slow", "intro-resources"]),
     ("My cats keep hissing at each other, is that normal?", "At first, yes.", ["intro-hissing", "intro-resources"])],
    [("Should a new cat see the vet before meeting my other cats?", "Yes.", ["intro-testing"])],
    [("How long can a cat go without eating?", "Not long.", ["appetite-24-hours", "vet-not-eating"]),
     ("How can I get a picky cat to eat?", "", ["appetite-warm-food", "appetite-no-starving"])],
    [("How often should my cat see the vet?", "", ["vet-checkups", "vet-hidden-illness"]),
     ("When is it an emergency to take my cat to the vet?", "", ["vet-emergencies", "vet-not-eating"])],
    [("Is it normal for a cat to pant?", "Not at rest.", ["vet-breathing"])],
    [("How do I know if my cat is overweight?", "", ["weight-body-condition", "weight-overweight"]),
     ("How fast should my cat lose weight?", "Slowly.", ["weight-slow-loss", "weight-measure-food"])],
    [("Why would my cat lose weight?", "", ["weight-unplanned-loss", "weight-ten-percent"])],
    [("How often should I brush my cat?", "", ["grooming-brushing", "grooming-mats"]),
     ("Do indoor cats need their claws trimmed?", "Often, yes.", ["grooming-claws"])],
    [("Why has my older cat stopped grooming?", "", ["grooming-stops", "senior-arthritis"])],
    [("Can indoor cats get fleas?", "Yes.", ["parasites-fleas-home", "parasites-cat-products"]),
     ("How often should I worm my cat?", "", ["parasites-worming-schedule", "parasites-tapeworm"])],
    [("Why is my cat shaking its head and scratching its ears?", "", ["parasites-ear-mites"])],
    [("What causes sneezing in cats?", "", ["respiratory-cat-flu", "respiratory-herpes-flares"]),
     ("Does L-lysine help cats with herpes?", "The evidence is weak.", ["respiratory-lysine"])],
    [("When should a sneezing cat see a vet?", "", ["respiratory-when-vet"]),
     ("How can I help my cat with a blocked nose?", "", ["respiratory-home-care", "respiratory-when-vet"])],
    [("When is vomiting in a cat serious?", "", ["vomiting-when-vet"]),
     ("My cat vomits about once a week, is that normal?", "No.", ["vomiting-chronic"])],
    [("When should I worry about my cat's diarrhoea?", "", ["diarrhoea-when-vet", "diarrhoea-water"]),
     ("Can I give my cat Pepto-Bismol for diarrhoea?", "No.", ["diarrhoea-no-human-meds", "diarrhoea-when-vet"])],
    [("When is a cat considered senior?", "", ["senior-age", "senior-checkups"]),
     ("How can I tell if my old cat has arthritis?", "", ["senior-arthritis", "senior-home-comfort"])],
    [("What are the signs of hyperthyroidism in cats?", "", ["senior-thyroid"]),
     ("Why does my old cat yowl at night?", "", ["senior-night-yowling"])],
    [("How do I give my cat a pill?", "", ["medication-hiding-pills", "medication-water-after"]),
     ("I missed my cat's dose this morning, should I give two now?", "No.", ["medication-missed-dose"])],
    [("Should I finish my cat's antibiotics if she seems better?", "Yes.", ["medication-as-prescribed"])],
    [("What are signs of diabetes in cats?", "", ["diabetes-signs"]),
     ("What are signs of low blood sugar in a cat on insulin?", "", ["diabetes-hypoglycaemia"])],
    [("My cat is squinting one eye, should I worry?", "Yes.", ["eyes-squinting"]),
     ("My old cat suddenly seems blind, what should I do?", "", ["eyes-sudden-blindness"])],
    [("Is it safe for my cat to play with string?", "Only while you watch.", ["hazards-string"]),
     ("Can cats fall from windows?", "Yes.", ["hazards-windows"])],
]
